import { Link, useRouterState } from '@tanstack/react-router';
import { useState } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { isAdministrator, isCrmOperator } from '../session/session-api.ts';
import { useSession } from '../session/session.tsx';
import { LanguageSwitch } from './LanguageSwitch.tsx';

/** Brand, navigation, language, and — when signed in — the person's name and sign-out. */
export function Header() {
  const { t } = useI18n();
  const session = useSession();
  const pathname = useRouterState({ select: (state) => state.location.pathname });
  const [signingOut, setSigningOut] = useState(false);
  const [signOutFailed, setSignOutFailed] = useState(false);
  const me = session.state.status === 'signed-in' ? session.state.me : undefined;

  const onSignOut = async () => {
    setSigningOut(true);
    setSignOutFailed(false);
    try {
      await session.signOut();
    } catch {
      setSigningOut(false);
      setSignOutFailed(true);
    }
  };

  const current = (active: boolean) => (active ? ('page' as const) : undefined);
  return (
    <header className="header">
      <div className="header__inner">
        <Link to="/" className="brand" activeOptions={{ exact: true }}>
          <span className="brand__mark" aria-hidden="true">
            ◆
          </span>
          {t.appName}
        </Link>
        {me ? (
          <nav className="nav" aria-label={t.mainNavigation}>
            <Link to="/" aria-current={current(pathname === '/' || pathname.startsWith('/reports/'))}>
              {t.navReports}
            </Link>
            {isCrmOperator(me) ? (
              <Link to="/operator" aria-current={current(pathname.startsWith('/operator'))} data-testid="nav-operator">
                {t.navOperator}
              </Link>
            ) : null}
            {isAdministrator(me) ? (
              <Link to="/admin" aria-current={current(pathname.startsWith('/admin'))}>
                {t.navAdmin}
              </Link>
            ) : null}
          </nav>
        ) : null}
        <div className="header__tools">
          <LanguageSwitch />
          {me ? (
            <div className="account">
              <span className="account__name" data-testid="user-name" title={t.signedInAs(me.username)}>
                {me.name ?? me.username}
              </span>
              <button type="button" className="button button--small button--ghost" onClick={onSignOut} disabled={signingOut} data-testid="sign-out">
                {signingOut ? t.signingOut : t.signOut}
              </button>
            </div>
          ) : null}
        </div>
      </div>
      {signOutFailed ? (
        <p className="banner banner--error" role="alert">
          {t.signOutFailed}
        </p>
      ) : null}
    </header>
  );
}
