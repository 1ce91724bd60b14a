/** Signed-out landing page; the BFF's /auth/login starts the Keycloak login. */
export function App() {
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '4rem auto', padding: '0 1rem' }}>
      <h1>BionicPRO</h1>
      <p>Usage reports for your prosthesis: daily activity, hourly detail and a summary.</p>
      <a href="/auth/login">Sign in</a>
    </main>
  );
}
