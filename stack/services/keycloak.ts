import type { StackService } from './service.ts';

/** Keycloak lands here shortly; registered already so the index stays importable. */
export const services: StackService[] = [];
