// Connected users: the roster with status and connection type, filters,
// search by name or email, one page at a time (the API pages with tokens,
// so a large organization is never loaded at once).
import { h, clear, uid } from '../dom.js';
import { t } from '../i18n.js';
import { call, orgPath, enumName } from '../api.js';
import { pageHeading, loading, done, errorBox, empty, badge, pager, newPaging, turn } from '../ui.js';

const pageSize = 25;
// empty filtered pages followed before showing one (each reads at most a few
// hundred members; 40 of them cover a 10,000-member org)
const maxEmptyHops = 40;
const statuses = ['CONNECTED', 'MATCHING', 'NOT_CONNECTED', 'NEEDS_RECONNECT', 'NOT_IN_ZOOM_ACCOUNT'];
const types = ['PERSONAL', 'ORGANIZATION', 'NONE'];
const statusTones = { CONNECTED: 'green', MATCHING: 'grey', NOT_CONNECTED: 'grey', NEEDS_RECONNECT: 'red', NOT_IN_ZOOM_ACCOUNT: 'amber' };

function select(id, label, values, prefix, key) {
  return h('div', { class: 'field' },
    h('label', { for: id, text: label }),
    h('select', { id, name: id }, h('option', { value: '', text: t('users.any') }),
      values.map((v) => h('option', { value: `${prefix}${v}`, text: t(`${key}.${v}`) }))));
}

export function render({ root, signal, claims }) {
  const path = `${orgPath(claims.org_id)}/zoom/users`;
  const results = h('div', { 'aria-live': 'polite' });
  let paging = newPaging();
  let filters = {};

  const searchId = uid('search');
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('users.filters'), onsubmit: (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    filters = { status: data.get('status'), type: data.get('type'), query: String(data.get('query') || '').trim() };
    paging = newPaging();
    load();
  } },
  select('status', t('users.status'), statuses, 'CONNECTED_USER_STATUS_', 'userStatus'),
  select('type', t('users.type'), types, 'CONNECTION_SOURCE_', 'source'),
  h('div', { class: 'field grow' },
    h('label', { for: searchId, text: t('users.search') }),
    h('input', { id: searchId, name: 'query', type: 'search', maxlength: '200', autocomplete: 'off' })),
  h('button', { type: 'submit', text: t('users.apply') }));

  root.append(...pageHeading(t('users.title'), t('users.intro')), form, results);

  function table(rows) {
    return h('table', { class: 'table' },
      h('caption', { class: 'visually-hidden', text: t('users.caption') }),
      h('thead', null, h('tr', null, ['users.name', 'users.email', 'users.type', 'users.status', 'users.zoomUser'].map((k) => h('th', { scope: 'col', text: t(k) })))),
      h('tbody', null, rows.map((u) => {
        const status = enumName(u.status, 'CONNECTED_USER_STATUS_') || 'NOT_CONNECTED';
        const type = enumName(u.type, 'CONNECTION_SOURCE_') || 'NONE';
        const m = u.member || {};
        return h('tr', null,
          h('th', { scope: 'row', text: m.name || m.userId }),
          h('td', { text: m.email || '—' }),
          h('td', { text: t(`source.${type}`) }),
          h('td', null, badge(t(`userStatus.${status}`), statusTones[status] || 'grey')),
          h('td', { text: u.zoomEmail || '—' }));
      })));
  }

  async function load() {
    loading(results);
    try {
      // A filtered call reads a bounded number of members, so a page may
      // come back empty with a token to go on (AIP-158): follow such
      // tokens (a bounded number of times) until a page has rows.
      let res;
      for (let hops = 0; ; hops++) {
        res = await call('GET', path, {
          query: { pageSize, pageToken: paging.current, status: filters.status, type: filters.type, query: filters.query }, signal,
        });
        if ((res.users || []).length || !res.nextPageToken || hops >= maxEmptyHops) break;
        paging.current = res.nextPageToken;
      }
      paging.next = res.nextPageToken || '';
      const rows = res.users || [];
      done(results);
      clear(results);
      const filtered = filters.status || filters.type || filters.query;
      if (!rows.length && !paging.stack.length) {
        results.append(filtered ? empty(t('users.noMatch'), t('users.noMatchHelp')) : empty(t('users.none'), t('users.noneHelp')));
        return;
      }
      results.append(table(rows), pager(t('users.pages'), paging, (_, dir) => { turn(paging, dir); load(); }));
    } catch (err) {
      if (err.name === 'AbortError') return;
      done(results);
      clear(results).append(errorBox(err, load));
    }
  }
  load();
}
