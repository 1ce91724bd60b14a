let navigatedInApp = false;

/** Whether the current page was reached by an in-app navigation (a link, Back/Forward), not the first load. */
export function hasNavigatedInApp(): boolean {
  return navigatedInApp;
}

/** Called by the router on every navigation after the first page. */
export function markInAppNavigation(): void {
  navigatedInApp = true;
}
