import { Component, type ErrorInfo, type ReactNode } from 'react';

/**
 * The last line of defence: a rendering error anywhere shows a way forward instead of a blank
 * page. It sits outside the language provider (which may be what failed), so it speaks both.
 */
export class CrashScreen extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('BionicPRO app crashed', error, info.componentStack);
  }

  override render(): ReactNode {
    if (!this.state.failed) return this.props.children;
    return (
      <main id="main" className="page page--narrow" data-testid="crash">
        <section className="state state--error" role="alert">
          <h1 className="page-title">Something went wrong · Что-то пошло не так</h1>
          <p>The page could not be shown. Reloading usually helps. · Страницу не удалось показать; обычно помогает перезагрузка.</p>
          <div className="actions">
            <button type="button" className="button" onClick={() => window.location.reload()}>
              Reload · Перезагрузить
            </button>
            <a className="button button--ghost" href="/">
              BionicPRO
            </a>
          </div>
        </section>
      </main>
    );
  }
}
