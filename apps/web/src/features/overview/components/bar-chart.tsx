import type { ReactNode } from 'react';
import { Link } from '../../../lib/router.tsx';
import { barPercent } from '../overview-model.ts';

export type Tone = 'brand' | 'good' | 'warning' | 'bad' | 'neutral';

export interface Bar {
  label: string;
  value: number;
  /** What is read beside the bar (the count unless told, e.g. "25 %"). */
  shown?: string;
  /** What the figure's name says of it ("berlin: 6 devices"). */
  spoken: string;
  /** Words read after the value by a screen reader, not shown ("devices"). */
  unit?: string;
  /** The filtered list it opens, when it counts a list. */
  href?: string;
  tone?: Tone;
}

/**
 * Horizontal bars drawn in HTML: each bar is a link to the list it counts, its value is text
 * beside it, and the figure's accessible name carries every value (its text alternative).
 * Colours are Fluent's tokens, so dark mode follows the theme.
 */
export function BarChart({
  title,
  bars,
  max,
  empty = 'Nothing to show.',
  footer,
  testId,
}: {
  title: string;
  bars: Bar[];
  /** The value a full bar stands for (the largest bar unless told, e.g. 1 for shares). */
  max?: number;
  empty?: string;
  footer?: ReactNode;
  testId?: string;
}) {
  const full = max ?? Math.max(0, ...bars.map((b) => b.value));
  const summary =
    bars.length === 0 ? `${title}: ${empty}` : `${title}: ${bars.map((b) => b.spoken).join(', ')}`;
  return (
    <figure className="chart" role="figure" aria-label={summary} data-testid={testId}>
      <figcaption className="chart-title" aria-hidden="true">
        {title}
      </figcaption>
      {bars.length === 0 ? (
        <p className="muted chart-empty">{empty}</p>
      ) : (
        <ul className="bars">
          {bars.map((bar, index) => {
            // Read as "berlin: 6 devices": the visible label and value, with the words
            // between them for a screen reader (the name holds what is seen, WCAG 2.5.3).
            const inner = (
              <>
                <span className="bar-label">{bar.label}</span>
                <span className="visually-hidden">: </span>
                <span className="bar-track" aria-hidden="true">
                  <span
                    className={`bar-fill tone-${bar.tone ?? 'brand'}`}
                    style={{ width: `${barPercent(bar.value, full)}%` }}
                  />
                </span>
                <span className="bar-value">{bar.shown ?? bar.value}</span>
                {bar.unit && <span className="visually-hidden"> {bar.unit}</span>}
              </>
            );
            return (
              // Labels can repeat (tag values 1 and "1", two rollouts of one name).
              <li key={`${index}:${bar.label}`}>
                {bar.href ? (
                  <Link to={bar.href} className="bar-row bar-link">
                    {inner}
                  </Link>
                ) : (
                  <span className="bar-row">{inner}</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {footer && <div className="chart-footer">{footer}</div>}
    </figure>
  );
}
