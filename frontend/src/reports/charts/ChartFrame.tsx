import type { ReactNode } from 'react';
import { ticks } from './scale.ts';

/** Shared geometry of the hourly charts: 24 slots across, a value axis from 0 to `max`. */
export const WIDTH = 640;
export const HEIGHT = 200;
const MARGIN = { top: 12, right: 12, bottom: 28, left: 48 };
export const PLOT = { x: MARGIN.left, y: MARGIN.top, width: WIDTH - MARGIN.left - MARGIN.right, height: HEIGHT - MARGIN.top - MARGIN.bottom };
export const SLOTS = 24;

export const slotWidth = PLOT.width / SLOTS;
export const slotCenter = (index: number) => PLOT.x + slotWidth * (index + 0.5);
export const yFor = (value: number, max: number) => PLOT.y + PLOT.height - (Math.max(0, Math.min(value, max)) / max) * PLOT.height;

export interface ChartFrameProps {
  id: string;
  title: string;
  /** What a screen reader hears instead of the drawing; the table below has every number. */
  description: string;
  max: number;
  formatTick: (value: number) => string;
  hourLabels: readonly string[];
  legend?: ReactNode;
  children: ReactNode;
}

/**
 * The figure around a chart: title, optional legend, and an SVG that scales with its container
 * (viewBox, width 100 %) so a phone gets the whole day without scrolling sideways.
 */
export function ChartFrame({ id, title, description, max, formatTick, hourLabels, legend, children }: ChartFrameProps) {
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption id={titleId} className="chart__title">
        {title}
      </figcaption>
      {legend}
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${titleId} ${descId}`} preserveAspectRatio="xMidYMid meet">
        <desc id={descId}>{description}</desc>
        <g className="chart__grid" aria-hidden="true">
          {ticks(max).map((tick) => (
            <g key={tick}>
              <line x1={PLOT.x} x2={PLOT.x + PLOT.width} y1={yFor(tick, max)} y2={yFor(tick, max)} />
              <text x={PLOT.x - 6} y={yFor(tick, max)} dy="0.32em" textAnchor="end">
                {formatTick(tick)}
              </text>
            </g>
          ))}
          {hourLabels.map((label, index) =>
            index % 4 === 0 ? (
              <text key={label} x={slotCenter(index)} y={HEIGHT - 8} textAnchor="middle">
                {label}
              </text>
            ) : null,
          )}
        </g>
        {children}
      </svg>
    </figure>
  );
}
