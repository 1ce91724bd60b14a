import type { ReactNode } from 'react';

export interface DayLinkProps {
  children: ReactNode;
  className?: string;
  rel?: string;
  'aria-label'?: string;
  'data-testid'?: string;
}

/**
 * How a report view links to a day: the owner's own pages and the administrator's pages of a
 * person render the same views with their own (type-checked) routes.
 */
export type LinkToDay = (date: string, props: DayLinkProps) => ReactNode;
