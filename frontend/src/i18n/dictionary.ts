/**
 * Every string the app shows, in English and Russian. `Messages` is derived from the English
 * dictionary, so the Russian one must provide exactly the same keys with the same signatures:
 * a missing or extra translation is a type error, not a blank on screen.
 */

export const LANGUAGES = ['en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Plural categories Intl.PluralRules yields for English and Russian. */
export type PluralForms = { one: string; few?: string; many?: string; other: string };

const en = {
  appName: 'BionicPRO',
  skipToContent: 'Skip to content',
  languageLabel: 'Language',
  languageName: 'English',

  // Signed out
  signedOutTitle: 'Your prosthesis, day by day',
  signedOutLead: 'See how your prosthesis is used: movements, success rate, response time, battery and errors, with an hourly breakdown for every day.',
  signedOutPoints: ['A summary of all your active days', 'A daily report with hourly charts', 'Only you can see your reports'],
  signIn: 'Sign in',
  signInHint: 'You sign in with your BionicPRO account and a one-time code from your authenticator app.',
  loginError: (code: string) => `Sign-in did not complete (${code}). Please try again.`,
  loginCancelled: 'Sign-in was cancelled.',

  // Session
  checkingSession: 'Checking your session…',
  sessionExpiredTitle: 'Your session has ended',
  sessionExpiredLead: 'For your security you were signed out after a period of inactivity, or from another place. Sign in again to continue where you left off.',
  signInAgain: 'Sign in again',
  signOut: 'Sign out',
  signingOut: 'Signing out…',
  signOutFailed: 'Sign-out failed. Check your connection and try again.',
  signedInAs: (name: string) => `Signed in as ${name}`,

  // Navigation
  navReports: 'My reports',
  navAdmin: 'Administration',
  navOperator: 'Operator',
  operatorOnlyLead: 'These pages are for CRM operators.',
  mainNavigation: 'Main',

  // Common states
  loading: 'Loading…',
  retry: 'Try again',
  errorTitle: 'Something went wrong',
  errorLoading: 'We could not load this page.',
  errorUnavailable: 'The report service is temporarily unavailable.',
  errorNetwork: 'No connection to the server.',
  requestId: (id: string) => `Reference: ${id}`,
  forbiddenTitle: 'No access',
  forbiddenLead: 'Your account has no access to prosthesis reports. If you have a BionicPRO prosthesis, contact support to link it to your account.',
  useAnotherAccount: 'Sign in with another account',
  notFoundTitle: 'Page not found',
  notFoundLead: 'This address does not lead anywhere in the app.',
  backToReports: 'Back to my reports',

  // Summary
  summaryTitle: 'Summary',
  activeDays: 'Active days',
  movements: 'Movements',
  successfulMovements: 'Successful',
  successRate: 'Success rate',
  responseTime: 'Response time',
  avgResponseTime: 'Average response time',
  maxResponseTime: 'Slowest response',
  battery: 'Battery',
  avgBattery: 'Average battery',
  minBattery: 'Lowest battery',
  errors: 'Errors',
  errorsPerDay: 'Errors per active day',
  prosthesisModel: 'Prosthesis model',
  chip: (chipId: string) => `chip ${chipId}`,
  activeMinutes: 'Active time',
  chargingMinutes: 'Charging time',
  notMeasured: '—',
  updatedAt: (when: string) => `Updated ${when}`,

  // Day list
  daysTitle: 'Report days',
  daysCount: { one: '{n} day with data', other: '{n} days with data' } as PluralForms,
  noReportsTitle: 'No reports yet',
  noReportsLead: 'Reports appear once your prosthesis has sent data and it has been processed (every 15 minutes). Make sure your prosthesis is charged and connected.',
  refresh: 'Refresh',
  showMore: 'Show more days',
  dayColumn: 'Day',
  openDay: (day: string) => `Open the report for ${day}`,

  // Daily report
  dailyTitle: (day: string) => `Report for ${day}`,
  previousDay: 'Previous day',
  nextDay: 'Next day',
  allDays: 'All days',
  timesInUtc: 'Times are in UTC.',
  chartMovements: 'Movements per hour',
  chartErrors: 'Errors per hour',
  chartResponse: 'Average response time per hour (ms)',
  chartBattery: 'Battery over the day (%)',
  chartSummary: (title: string, peak: string, at: string) => `${title}: highest ${peak} at ${at}`,
  chartNoData: (title: string) => `${title}: no data for this day`,
  legendAverage: 'average',
  legendMinimum: 'minimum',
  hourlyTableTitle: 'Hourly figures',
  hourColumn: 'Hour (UTC)',
  colResponseMs: 'Response, ms',
  colBatteryAvg: 'Battery avg',
  colBatteryMin: 'Battery min',
  colActive: 'Active',
  errorsByCode: 'Errors by code',
  errorCode: 'Code',
  errorCount: 'Count',
  noErrors: 'No errors on this day.',
  noDataForDay: 'There is no data for this day.',
  prostheses: 'Prostheses',
  minutes: (n: string) => `${n} min`,
  ms: (n: string) => `${n} ms`,

  // Admin
  adminTitle: 'Administration',
  adminLead: 'Open any person’s reports (every access is audited) and drop cached report documents.',
  findUser: 'Find a person',
  usernameLabel: 'Username',
  usernameHint: 'The person’s login name, for example ivan.petrov',
  usernameInvalid: 'Enter a username: letters, digits, dots, dashes, underscores or @.',
  openReports: 'Open reports',
  userReportsTitle: (user: string) => `Reports of ${user}`,
  invalidateUser: 'Invalidate this person’s cached reports',
  invalidateAll: 'Invalidate all cached reports',
  invalidateAllConfirm: 'This drops every cached report for everyone; reports are recomputed on the next view. Continue?',
  confirm: 'Yes, invalidate',
  cancel: 'Cancel',
  invalidating: 'Invalidating…',
  invalidated: (count: number, purge: string) => `Dropped ${count} cached document(s). CDN purge: ${purge}.`,
  purgeOk: 'done',
  purgeFailed: 'failed (cached copies expire on their own)',
  purgeSkipped: 'not attempted',
  cacheTitle: 'Report cache',
  userHasNoReports: 'This person has no report data.',
  backToAdmin: 'Back to administration',
  adminOnlyLead: 'This page is for administrators. Your own reports are one click away.',
  sessionsTitle: 'Signed-in sessions',
  noSessions: 'This person is not signed in anywhere.',
  sessionStarted: 'Started',
  sessionLastSeen: 'Last active',
  sessionDevice: 'Browser',
  thisSession: 'this session',
  endSessions: 'Sign this person out everywhere',
  endingSessions: 'Signing out…',
  sessionsEnded: (count: number) => `Ended ${count} session(s).`,
} as const;

type Widen<T> = T extends string ? string : T extends readonly string[] ? readonly string[] : T extends PluralForms ? PluralForms : T;
export type Messages = { readonly [K in keyof typeof en]: Widen<(typeof en)[K]> };
export type MessageKey = keyof Messages;

const ru: Messages = {
  appName: 'BionicPRO',
  skipToContent: 'Перейти к содержимому',
  languageLabel: 'Язык',
  languageName: 'Русский',

  signedOutTitle: 'Ваш протез — день за днём',
  signedOutLead: 'Смотрите, как используется ваш протез: движения, доля успешных, время отклика, заряд батареи и ошибки, с почасовой детализацией за каждый день.',
  signedOutPoints: ['Сводка по всем активным дням', 'Отчёт за день с почасовыми графиками', 'Ваши отчёты видите только вы'],
  signIn: 'Войти',
  signInHint: 'Вход по учётной записи BionicPRO и одноразовому коду из приложения-аутентификатора.',
  loginError: (code) => `Вход не завершён (${code}). Попробуйте ещё раз.`,
  loginCancelled: 'Вход отменён.',

  checkingSession: 'Проверяем сеанс…',
  sessionExpiredTitle: 'Сеанс завершён',
  sessionExpiredLead: 'В целях безопасности сеанс завершён после периода бездействия или из другого места. Войдите снова, чтобы продолжить с того же места.',
  signInAgain: 'Войти снова',
  signOut: 'Выйти',
  signingOut: 'Выходим…',
  signOutFailed: 'Не удалось выйти. Проверьте соединение и попробуйте ещё раз.',
  signedInAs: (name) => `Вы вошли как ${name}`,

  navReports: 'Мои отчёты',
  navAdmin: 'Администрирование',
  navOperator: 'Оператор',
  operatorOnlyLead: 'Эти страницы — для операторов CRM.',
  mainNavigation: 'Основное',

  loading: 'Загрузка…',
  retry: 'Повторить',
  errorTitle: 'Что-то пошло не так',
  errorLoading: 'Не удалось загрузить страницу.',
  errorUnavailable: 'Сервис отчётов временно недоступен.',
  errorNetwork: 'Нет соединения с сервером.',
  requestId: (id) => `Номер обращения: ${id}`,
  forbiddenTitle: 'Нет доступа',
  forbiddenLead: 'У вашей учётной записи нет доступа к отчётам о протезе. Если у вас есть протез BionicPRO, обратитесь в поддержку, чтобы привязать его к учётной записи.',
  useAnotherAccount: 'Войти под другой учётной записью',
  notFoundTitle: 'Страница не найдена',
  notFoundLead: 'По этому адресу в приложении ничего нет.',
  backToReports: 'К моим отчётам',

  summaryTitle: 'Сводка',
  activeDays: 'Активных дней',
  movements: 'Движения',
  successfulMovements: 'Успешные',
  successRate: 'Доля успешных',
  responseTime: 'Время отклика',
  avgResponseTime: 'Среднее время отклика',
  maxResponseTime: 'Самый медленный отклик',
  battery: 'Батарея',
  avgBattery: 'Средний заряд',
  minBattery: 'Минимальный заряд',
  errors: 'Ошибки',
  errorsPerDay: 'Ошибок за активный день',
  prosthesisModel: 'Модель протеза',
  chip: (chipId) => `чип ${chipId}`,
  activeMinutes: 'Время активности',
  chargingMinutes: 'Время зарядки',
  notMeasured: '—',
  updatedAt: (when) => `Обновлено ${when}`,

  daysTitle: 'Дни с отчётами',
  daysCount: { one: '{n} день с данными', few: '{n} дня с данными', many: '{n} дней с данными', other: '{n} дня с данными' },
  noReportsTitle: 'Отчётов пока нет',
  noReportsLead: 'Отчёты появляются, когда протез передал данные и они обработаны (каждые 15 минут). Проверьте, что протез заряжен и подключён.',
  refresh: 'Обновить',
  showMore: 'Показать ещё',
  dayColumn: 'День',
  openDay: (day) => `Открыть отчёт за ${day}`,

  dailyTitle: (day) => `Отчёт за ${day}`,
  previousDay: 'Предыдущий день',
  nextDay: 'Следующий день',
  allDays: 'Все дни',
  timesInUtc: 'Время указано в UTC.',
  chartMovements: 'Движения по часам',
  chartErrors: 'Ошибки по часам',
  chartResponse: 'Среднее время отклика по часам (мс)',
  chartBattery: 'Заряд батареи в течение дня (%)',
  chartSummary: (title, peak, at) => `${title}: максимум ${peak} в ${at}`,
  chartNoData: (title) => `${title}: нет данных за этот день`,
  legendAverage: 'средний',
  legendMinimum: 'минимальный',
  hourlyTableTitle: 'Показатели по часам',
  hourColumn: 'Час (UTC)',
  colResponseMs: 'Отклик, мс',
  colBatteryAvg: 'Заряд ср.',
  colBatteryMin: 'Заряд мин.',
  colActive: 'Активность',
  errorsByCode: 'Ошибки по кодам',
  errorCode: 'Код',
  errorCount: 'Количество',
  noErrors: 'В этот день ошибок не было.',
  noDataForDay: 'За этот день данных нет.',
  prostheses: 'Протезы',
  minutes: (n) => `${n} мин`,
  ms: (n) => `${n} мс`,

  adminTitle: 'Администрирование',
  adminLead: 'Откройте отчёты любого человека (каждый доступ записывается в журнал аудита) и сбросьте кэш отчётов.',
  findUser: 'Найти человека',
  usernameLabel: 'Имя пользователя',
  usernameHint: 'Логин человека, например ivan.petrov',
  usernameInvalid: 'Введите имя пользователя: латинские буквы, цифры, точки, дефисы, подчёркивания или @.',
  openReports: 'Открыть отчёты',
  userReportsTitle: (user) => `Отчёты пользователя ${user}`,
  invalidateUser: 'Сбросить кэш отчётов этого человека',
  invalidateAll: 'Сбросить весь кэш отчётов',
  invalidateAllConfirm: 'Будут удалены кэшированные отчёты всех людей; они пересчитаются при следующем просмотре. Продолжить?',
  confirm: 'Да, сбросить',
  cancel: 'Отмена',
  invalidating: 'Сбрасываем…',
  invalidated: (count, purge) => `Удалено кэшированных документов: ${count}. Очистка CDN: ${purge}.`,
  purgeOk: 'выполнена',
  purgeFailed: 'не удалась (копии истекут сами)',
  purgeSkipped: 'не выполнялась',
  cacheTitle: 'Кэш отчётов',
  userHasNoReports: 'У этого человека нет данных для отчётов.',
  backToAdmin: 'К администрированию',
  adminOnlyLead: 'Эта страница — для администраторов. Ваши отчёты — в один клик.',
  sessionsTitle: 'Активные сеансы',
  noSessions: 'Этот человек сейчас нигде не вошёл.',
  sessionStarted: 'Начат',
  sessionLastSeen: 'Последняя активность',
  sessionDevice: 'Браузер',
  thisSession: 'этот сеанс',
  endSessions: 'Завершить все сеансы человека',
  endingSessions: 'Завершаем…',
  sessionsEnded: (count) => `Завершено сеансов: ${count}.`,
};

export const dictionaries: Record<Language, Messages> = { en, ru };

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** The stored choice if any, else the first browser language we speak, else English. */
export function pickLanguage(stored: string | null, browserLanguages: readonly string[]): Language {
  if (isLanguage(stored)) return stored;
  for (const tag of browserLanguages) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

/** "{n} days" in the right plural form for the language. */
export function plural(language: Language, forms: PluralForms, n: number, formatted: string): string {
  const category = new Intl.PluralRules(language).select(n) as keyof PluralForms;
  return (forms[category] ?? forms.other).replace('{n}', formatted);
}
