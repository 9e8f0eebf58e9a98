// Shared pieces of every page: headings, loading, empty and error states,
// status badges, announcements for screen readers, and pagers.
import { h, clear } from './dom.js';
import { t, has } from './i18n.js';
import { ApiError } from './api.js';

// announce tells screen-reader users (and everyone, through the visible
// notice the caller renders) that something happened.
export function announce(msg) {
  const el = document.getElementById('announcer');
  el.textContent = '';
  setTimeout(() => { el.textContent = msg; }, 30);
}

// pageHeading is a page's h1; the router focuses it after navigation.
export function pageHeading(text, intro) {
  return [h('h1', { tabindex: '-1', text }), intro ? h('p', { class: 'intro', text: intro }) : null].filter(Boolean);
}

export function loading(el, what) {
  el.setAttribute('aria-busy', 'true');
  clear(el).append(h('p', { class: 'loading', text: what || t('common.loading') }));
}

export function done(el) {
  el.removeAttribute('aria-busy');
}

export function empty(title, text) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title', text: title }), text ? h('p', { text }) : null);
}

// whatToDo says what the person can do about an error, by its reason or
// HTTP status.
function whatToDo(err) {
  if (err.reason && has(`hint.${err.reason}`)) return t(`hint.${err.reason}`);
  if (has(`hint.http.${err.status}`)) return t(`hint.http.${err.status}`);
  return t('hint.default');
}

// errorBox shows the API's message (or ours, when the service could not be
// reached), what to do, the reason code for support, and a retry button.
export function errorBox(err, retry) {
  const apiErr = err instanceof ApiError ? err : new ApiError(0, '', 'CLIENT');
  if (!(err instanceof ApiError)) console.warn(err);
  const message = apiErr.message || (apiErr.reason === 'NETWORK' ? t('error.network') : t('error.generic'));
  return h('div', { class: 'error', role: 'alert' },
    h('p', { class: 'error-title', text: t('error.title') }),
    h('p', { class: 'error-message', text: message }),
    h('p', { text: whatToDo(apiErr) }),
    apiErr.reason ? h('p', { class: 'muted' }, t('error.reason'), ' ', h('code', { text: apiErr.reason })) : null,
    retry ? h('button', { type: 'button', class: 'secondary', onclick: retry, text: t('common.retry') }) : null);
}

// badge is a coloured label whose text carries the meaning (colour only
// repeats it).
export function badge(text, tone) {
  return h('span', { class: `badge badge-${tone}`, text });
}

// pager renders "Previous / Page n / Next" over page tokens: the API pages
// forward only, so earlier tokens are kept in a stack.
export function pager(label, state, onPage) {
  const prev = h('button', { type: 'button', class: 'secondary', disabled: state.stack.length === 0, text: t('common.previous'),
    onclick: () => onPage(state.stack[state.stack.length - 1], -1) });
  const next = h('button', { type: 'button', class: 'secondary', disabled: !state.next, text: t('common.next'),
    onclick: () => onPage(state.next, +1) });
  return h('nav', { class: 'pager', 'aria-label': label }, prev, h('span', { text: t('common.page', { n: state.stack.length + 1 }) }), next);
}

// newPaging is the pager state: tokens of earlier pages, this page's token
// and the next page's.
export function newPaging() {
  return { stack: [], current: '', next: '' };
}

// turn moves paging by dir (+1 next, -1 previous) and returns the token to load.
export function turn(state, dir) {
  if (dir > 0) {
    state.stack.push(state.current);
    state.current = state.next;
  } else {
    state.current = state.stack.pop() || '';
  }
  return state.current;
}
