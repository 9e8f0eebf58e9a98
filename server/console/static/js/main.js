// The console's shell: sign-in, header, navigation and a hash router over the
// pages. Every page gets the element to draw into and an AbortSignal that
// ends its requests and timers when the person leaves it.
import { h, clear } from './dom.js';
import { t, setLanguage, pickLanguage, languages, currentLanguage } from './i18n.js';
import { claims, signOut, takeTokenFromFragment, listenForHost } from './session.js';
import { announce } from './ui.js';
import * as signin from './pages/signin.js';
import * as org from './pages/org.js';
import * as options from './pages/options.js';
import * as users from './pages/users.js';
import * as activity from './pages/activity.js';
import * as me from './pages/me.js';

const pages = [
  { id: 'org', page: org, admin: true },
  { id: 'options', page: options, admin: true },
  { id: 'users', page: users, admin: true },
  { id: 'activity', page: activity, admin: true },
  { id: 'me', page: me, admin: false },
];

const app = document.getElementById('app');
let config = { hostOrigins: [] };
let leave = new AbortController();
let signInNotice = '';

const isAdmin = (c) => c.org_role === 'owner' || c.org_role === 'admin';

function currentRoute(c) {
  const id = location.hash.replace(/^#\/?/, '').split('?')[0];
  const allowed = pages.filter((p) => !p.admin || isAdmin(c));
  return allowed.find((p) => p.id === id) || allowed[0];
}

function languageSwitch() {
  const id = 'language-switch';
  const select = h('select', { id, onchange: async (ev) => {
    await setLanguage(ev.target.value, true);
    render();
    document.getElementById(id).focus();
  } }, languages.map((l) => h('option', { value: l, selected: l === currentLanguage(), text: t(`language.${l}`) })));
  return h('div', { class: 'language' }, h('label', { for: id, text: t('language.label') }), select);
}

function header(c) {
  const who = c ? h('p', { class: 'who' },
    h('span', { text: t('header.signedInAs', { name: c.name || c.sub, role: t(`role.${c.org_role}`), org: c.org_id }) }),
    h('button', { type: 'button', class: 'link', text: t('header.signOut'), onclick: () => { signOut(); signInNotice = ''; render(); } })) : null;
  return h('header', { class: 'top' },
    h('a', { class: 'skip', href: '#main', text: t('header.skip'), onclick: (ev) => { ev.preventDefault(); document.getElementById('main').focus(); } }),
    h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), h('span', { text: t('app.title') })),
    who, languageSwitch());
}

function nav(c, route) {
  const items = pages.filter((p) => !p.admin || isAdmin(c)).map((p) => h('li', null,
    h('a', { href: `#/${p.id}`, 'aria-current': p === route ? 'page' : null, text: t(`nav.${p.id}`) })));
  return h('nav', { class: 'side', 'aria-label': t('nav.label') }, h('ul', null, items));
}

// render draws the shell and the current page.
function render() {
  leave.abort();
  leave = new AbortController();
  const c = claims();
  document.title = t('app.title');
  const main = h('main', { id: 'main', tabindex: '-1' });
  app.removeAttribute('aria-busy');
  if (!c) {
    clear(app).append(header(null), h('div', { class: 'layout single' }, main));
    signin.render({ root: main, signal: leave.signal, config, notice: signInNotice, onSignedIn: () => { signInNotice = ''; location.hash = '#/'; render(); } });
    return;
  }
  const route = currentRoute(c);
  if (location.hash !== `#/${route.id}`) history.replaceState(null, '', `#/${route.id}`);
  document.title = `${t(`nav.${route.id}`)} · ${t('app.title')}`;
  clear(app).append(header(c), h('div', { class: 'layout' }, nav(c, route), main));
  route.page.render({ root: main, signal: leave.signal, claims: c, rerender: render });
}

// focusHeading moves focus to the new page's heading after navigation, so
// keyboard and screen-reader users start at the top of what changed.
function focusHeading() {
  const h1 = document.querySelector('main h1');
  if (h1) h1.focus();
}

async function boot() {
  await setLanguage(pickLanguage(), false);
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (res.ok) config = await res.json();
  } catch {
    // without config the console still works with a token from the fragment
  }
  takeTokenFromFragment();
  listenForHost(config.hostOrigins || [], () => render());
  window.addEventListener('hashchange', () => {
    render();
    setTimeout(focusHeading, 0);
  });
  window.addEventListener('zoomconnect:unauthenticated', () => {
    signOut();
    signInNotice = t('signin.expired');
    announce(signInNotice);
    render();
  });
  render();
}

boot();
