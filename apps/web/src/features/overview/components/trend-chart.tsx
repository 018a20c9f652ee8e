import { linePath } from '../overview-model.ts';
import type { Tone } from './bar-chart.tsx';

export interface Series {
  name: string;
  tone: Tone;
  values: number[];
}

const BOX = { width: 600, height: 140, pad: 4 };

/**
 * Lines over time in SVG (a handful of series, up to a few hundred points: hours of a week,
 * minutes of an hour). The figure's name says what each line did; the values themselves are
 * in a table a screen reader reaches (and anyone who opens it).
 */
export function TrendChart({
  title,
  times,
  stepMs,
  labels,
  series,
  empty,
  testId,
}: {
  title: string;
  /** When each point was taken (ms since the epoch), oldest first. */
  times: number[];
  /** How far apart points are meant to be (an hour, a day, a minute): a wider gap is a break. */
  stepMs: number;
  /** One label per point, as it reads in the table ("Mon 14:00"). */
  labels: string[];
  series: Series[];
  empty: string;
  testId?: string;
}) {
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
              viewBox={`0 0 ${BOX.width} ${BOX.height}`}
              preserveAspectRatio="none"
              className="trend-svg"
              aria-hidden="true"
              focusable="false"
            >
              <line
                x1={0}
                x2={BOX.width}
                y1={BOX.height - BOX.pad}
                y2={BOX.height - BOX.pad}
                className="trend-axis"
              />
              {series.map((s) => (
                <path
                  key={s.name}
                  d={linePath(
                    times.map((at, i) => ({ at, value: s.values[i] ?? 0 })),
                    top,
                    stepMs,
                    BOX,
                  )}
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
            <table className="values-table">
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
