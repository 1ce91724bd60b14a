import { useEffect, useRef, type ReactNode } from 'react';
import { hasNavigatedInApp } from './in-app-navigation.ts';

/**
 * The page's h1. After an in-app navigation it takes focus, so a screen reader announces the new
 * page and the next Tab starts from its top, as after a full page load. On the first load it
 * does not: focus would skip the skip link and the header.
 */
export function PageHeading({ children, id }: { children: ReactNode; id?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (hasNavigatedInApp()) ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <h1 ref={ref} id={id} tabIndex={-1} className="page-title">
      {children}
    </h1>
  );
}
