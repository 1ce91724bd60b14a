import { useRouterState } from '@tanstack/react-router';

/**
 * The page the person is on, as the address bar shows it (path and raw query), for `returnTo`.
 * Read from the router's store so the sign-in links follow in-app navigation.
 */
export function useCurrentPage(): { pathname: string; search: string } {
  const pathname = useRouterState({ select: (state) => state.location.pathname });
  const search = useRouterState({ select: (state) => state.location.searchStr });
  return { pathname, search };
}
