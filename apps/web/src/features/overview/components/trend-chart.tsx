import { useId } from 'react';
import type { Tone } from './bar-chart.tsx';

export interface Series {
  name: string;
  tone: Tone;
  values: number[];
}

const WIDTH = 600;
const HEIGHT = 140;
const PAD = 4;

/** A series as an SVG path over the chart's box (values from 0 to `top`). */
function pathOf(values: number[], top: number): string {
  if (values.length === 0) return '';
  // One point so far: a level line across, so the first look is seen (not a dot lost at the edge).
  if (values.length === 1) values = [values[0]!, values[0]!];
  const step = values.length > 1 ? (WIDTH - 2 * PAD) / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const x = PAD + i * step;
      const y = HEIGHT - PAD - (top > 0 ? (v / top) * (HEIGHT - 2 * PAD) : 0);
      return `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/**
 * Lines over time in SVG (a handful of series, up to a few hundred points: hours of a week,
 * minutes of an hour). The figure's name says what each line did; the values themselves are
 * in a table a screen reader reaches (and anyone who opens it).
 */
export function TrendChart({
  title,
  labels,
  series,
  empty,
  testId,
}: {
  title: string;
  /** One label per point, as it reads in the table ("Mon 14:00"). */
  labels: string[];
  series: Series[];
  empty: string;
  testId?: string;
}) {
  const tableId = useId();
  const top = Math.max(1, ...series.flatMap((s) => s.values));
  const summary =
    labels.length === 0
      ? `${title}: ${empty}`
      : `${title}, ${labels[0]} to ${labels.at(-1)}: ${series
          .map((s) => `${s.name} from ${s.values[0] ?? 0} to ${s.values.at(-1) ?? 0}`)
          .join('; ')}`;
  return (
    <figure className="chart" role="figure" aria-label={summary} data-testid={testId}>
      <figcaption className="chart-title" aria-hidden="true">
        {title}
      </figcaption>
      {labels.length === 0 ? (
        <p className="muted chart-empty">{empty}</p>
      ) : (
        <>
          <div className="trend">
            <span className="trend-top muted" aria-hidden="true">
              {top}
            </span>
            <svg
              viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
              preserveAspectRatio="none"
              className="trend-svg"
              aria-hidden="true"
              focusable="false"
            >
              <line x1={0} x2={WIDTH} y1={HEIGHT - PAD} y2={HEIGHT - PAD} className="trend-axis" />
              {series.map((s) => (
                <path
                  key={s.name}
                  d={pathOf(s.values, top)}
                  className={`trend-line tone-${s.tone}`}
                />
              ))}
            </svg>
          </div>
          <div className="trend-legend">
            <span className="muted">{labels[0]}</span>
            {labels.length > 1 && <span className="muted">to {labels.at(-1)}</span>}
            {series.map((s) => (
              <span key={s.name} className="legend-item">
                <span className={`legend-swatch tone-${s.tone}`} aria-hidden="true" />
                {s.name}: {s.values.at(-1) ?? 0}
              </span>
            ))}
          </div>
          <details className="chart-values">
            <summary>Values</summary>
            <table id={tableId} className="values-table">
              <caption className="visually-hidden">{title}</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  {series.map((s) => (
                    <th key={s.name} scope="col">
                      {s.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {labels.map((label, i) => (
                  <tr key={`${label}-${i}`}>
                    <th scope="row">{label}</th>
                    {series.map((s) => (
                      <td key={s.name}>{s.values[i] ?? 0}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </figure>
  );
}
