import { Button, Checkbox, Text } from '@fluentui/react-components';
import type { TelemetryEvent } from '@twinscope/contract';
import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useDarkMode } from '../../../lib/use-dark-mode.ts';
import { plotColumns, plottablePaths } from '../telemetry-plot-model.ts';

/** Line colours that read on Fluent's light and dark backgrounds alike. */
const COLOURS = ['#0f6cbd', '#c50f1f', '#107c10', '#8764b8', '#da3b01', '#038387'];

/** What a plotted path is called and measured in (from a Plug and Play model when there is one). */
export interface FieldInfo {
  name?: string;
  unit?: string;
}

/**
 * The numeric fields of live telemetry as lines over time, drawn by uPlot on a canvas (it
 * keeps tens of thousands of points fluid). Drag across the plot to zoom in on a stretch,
 * double-click to see it all again; the viewer's pause holds the lines still. Each field
 * is chosen by its JSON path; all numbers found are offered.
 */
export function TelemetryPlot({
  messages,
  fields = {},
}: {
  /** Newest first, as the viewer keeps them. */
  messages: readonly TelemetryEvent[];
  fields?: Record<string, FieldInfo>;
}) {
  const dark = useDarkMode();
  const paths = useMemo(() => plottablePaths(messages), [messages]);
  const [chosen, setChosen] = useState<string[] | undefined>();
  const shown = (chosen ?? paths).filter((p) => paths.includes(p));
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const [zoomed, setZoomed] = useState(false);
  const key = shown.join('|');
  // Names and units may come after the plot is drawn (the model loads): then it is drawn again.
  const fieldsKey = JSON.stringify(fields);
  const columns = useMemo(() => plotColumns(messages, shown), [messages, key]); // eslint-disable-line react-hooks/exhaustive-deps

  // A new plot when the fields or the theme change; new data alone is set on the same one.
  useEffect(() => {
    const element = host.current;
    if (!element || shown.length === 0) return;
    const axis = dark ? '#d6d6d6' : '#424242';
    const grid = dark ? '#3d3d3d' : '#e0e0e0';
    const made = new uPlot(
      {
        width: element.clientWidth || 600,
        height: 220,
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: axis, grid: { stroke: grid } },
          { stroke: axis, grid: { stroke: grid } },
        ],
        series: [
          {},
          ...shown.map((path, i) => {
            const info = fields[path];
            const label = `${info?.name ?? path}${info?.unit ? ` (${info.unit})` : ''}`;
            return { label, stroke: COLOURS[i % COLOURS.length]!, width: 2, spanGaps: true };
          }),
        ],
        hooks: {
          setScale: [
            (u: uPlot, scale: string) => {
              if (scale !== 'x') return;
              const data = u.data[0];
              const min = u.scales.x?.min;
              const max = u.scales.x?.max;
              setZoomed(
                data.length > 1 &&
                  min !== undefined &&
                  max !== undefined &&
                  (min > data[0]! || max < data[data.length - 1]!),
              );
            },
          ],
        },
      },
      [columns.times, ...columns.values] as uPlot.AlignedData,
      element,
    );
    plot.current = made;
    const resize = new ResizeObserver(() =>
      made.setSize({ width: element.clientWidth || 600, height: 220 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      made.destroy();
      plot.current = undefined;
    };
  }, [key, dark, fieldsKey]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    // Zoomed in, the stretch stays put as messages arrive; otherwise the plot follows them.
    plot.current?.setData([columns.times, ...columns.values] as uPlot.AlignedData, !zoomed);
  }, [columns]); // eslint-disable-line react-hooks/exhaustive-deps

  if (paths.length === 0)
    return (
      <p className="muted" data-testid="telemetry-plot-empty">
        No numeric field yet: the plot draws the numbers found in JSON telemetry.
      </p>
    );
  const last = (i: number) => {
    const column = columns.values[i] ?? [];
    for (let j = column.length - 1; j >= 0; j--) if (column[j] !== null) return column[j];
    return undefined;
  };
  return (
    <figure
      className="telemetry-plot"
      role="figure"
      aria-label={`Telemetry over time: ${shown
        .map((path, i) => {
          const info = fields[path];
          return `${info?.name ?? path} last ${last(i) ?? 'none'}${info?.unit ? ` ${info.unit}` : ''}`;
        })
        .join(', ')}; ${columns.times.length} messages`}
      data-testid="telemetry-plot"
    >
      <div className="action-row" role="group" aria-label="Fields to plot">
        {paths.map((path) => (
          <Checkbox
            key={path}
            label={fields[path]?.name ? `${fields[path]!.name} (${path})` : path}
            checked={shown.includes(path)}
            onChange={(_e, d) =>
              setChosen(d.checked ? [...shown, path] : shown.filter((p) => p !== path))
            }
          />
        ))}
        {zoomed && (
          <Button size="small" onClick={() => plot.current && resetZoom(plot.current)}>
            Show all
          </Button>
        )}
        <Text size={200} className="muted">
          Drag across the plot to zoom; double-click for all.
        </Text>
      </div>
      <div ref={host} className="telemetry-plot-canvas" aria-hidden="true" />
    </figure>
  );
}

function resetZoom(u: uPlot): void {
  const xs = u.data[0];
  if (xs.length > 0) u.setScale('x', { min: xs[0]!, max: xs[xs.length - 1]! });
}
