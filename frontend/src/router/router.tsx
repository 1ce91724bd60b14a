import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/**
 * A history router in a few lines: the location is an external store (popstate plus our own
 * event for pushState), links intercept plain left clicks and leave modified clicks (new tab,
 * download) to the browser.
 */

const NAVIGATE_EVENT = 'bionicpro:navigate';

let navigatedInApp = false;
/** Whether the current page was reached by an in-app navigation (not the first load). */
export function hasNavigatedInApp(): boolean {
  return navigatedInApp;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

window.addEventListener('popstate', () => {
  navigatedInApp = true;
});

const snapshot = () => `${window.location.pathname}${window.location.search}`;

/** The current path and query; components re-render when it changes. */
export function useLocation(): { pathname: string; search: string } {
  const current = useSyncExternalStore(subscribe, snapshot);
  const at = current.indexOf('?');
  return at === -1 ? { pathname: current, search: '' } : { pathname: current.slice(0, at), search: current.slice(at) };
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  navigatedInApp = true;
  if (options.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
  // A new page starts at the top, and its heading is announced (see PageHeading).
  window.scrollTo(0, 0);
}

function isPlainLeftClick(event: MouseEvent<HTMLAnchorElement>): boolean {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey && !event.defaultPrevented;
}

export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return (
    <a
      href={href}
      onClick={(event) => {
        onClick?.(event);
        if (!isPlainLeftClick(event) || rest.target === '_blank') return;
        event.preventDefault();
        navigate(href);
      }}
      {...rest}
    />
  );
}
