import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  values: number[];
}

/** Colours that hold 4.5:1 on white, so the legend's text in them stays readable. */
export const chartColors = ['#0b57d0', '#b3261e', '#137333', '#8a4b00', '#6b3fa0', '#00639b', '#a50e72', '#3c4043'];

const heightInPx = 220;

/**
 * A line chart over time, in a `<figure>` with its caption, a legend in words and the same numbers
 * as a table for screen readers (the canvas itself is hidden from them).
 */
export function TimeChart(props: { title: string; summary: string; at: Date[]; series: ChartSeries[]; bucket: 'hour' | 'day' }) {
  const { title, summary, at, series, bucket } = props;
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const plot = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: heightInPx,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_self, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { values: (_self, ticks) => ticks.map((tick) => (Number.isInteger(tick) ? String(tick) : '')) }],
        series: [{}, ...series.map((line) => ({ label: line.label, stroke: line.color, width: 2, points: { show: at.length < 60 } }))],
      },
      [at.map((instant) => instant.getTime() / 1000), ...series.map((line) => line.values)],
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, element.clientWidth), height: heightInPx }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [at, series]);

  const label = (instant: Date) =>
    bucket === 'day' ? instant.toLocaleDateString() : instant.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
  const id = title.toLowerCase().replace(/\W+/g, '-');
  return (
    <figure className="chart" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>{title}</figcaption>
      <div ref={container} className="chart-canvas" aria-hidden="true" />
      <ul className="legend">
        {series.map((line) => (
          <li key={line.label}>
            <span className="swatch" style={{ background: line.color }} aria-hidden="true" /> {line.label}
          </li>
        ))}
      </ul>
      <p className="summary">{summary}</p>
      <div className="visually-hidden">
        <table>
          <caption>
            {title}, per {bucket}
          </caption>
          <thead>
            <tr>
              <th scope="col">{bucket === 'day' ? 'Day' : 'Hour'}</th>
              {series.map((line) => (
                <th key={line.label} scope="col">
                  {line.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {at.map((instant, index) => (
              <tr key={instant.getTime()}>
                <th scope="row">{label(instant)}</th>
                {series.map((line) => (
                  <td key={line.label}>{line.values[index] ?? 0}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
