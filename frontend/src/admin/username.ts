/** The same username rule core and the BFF apply. */
export const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

export function isUsername(value: string): boolean {
  return USERNAME.test(value);
}
