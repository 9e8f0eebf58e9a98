// Activity: who changed what in the organization's Zoom setup, and when,
// newest first, one page at a time.
import { h, clear } from '../dom.js';
import { t, formatDateTime, has } from '../i18n.js';
import { call, orgPath, enumName } from '../api.js';
import { pageHeading, loading, done, errorBox, empty, pager, newPaging, turn } from '../ui.js';

const pageSize = 25;

function actorText(actor, me) {
  if (actor === 'zoom' || actor === 'system') return t(`actor.${actor}`);
  if (actor === me) return t('actor.you', { id: actor });
  return actor || '—';
}

// detailValue shows timestamps in the viewer's locale and a setting's
// "false → true" as off → on.
function detailValue(v) {
  if (/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(v)) return formatDateTime(v);
  return v.replace(/\b(true|false)\b/g, (m) => t(m === 'true' ? 'common.on' : 'common.off'));
}

function detailsText(details) {
  return Object.entries(details || {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => {
    const label = has(`detail.${k}`) ? t(`detail.${k}`) : k;
    return `${label}: ${detailValue(v)}`;
  }).join(' · ');
}

export function render({ root, signal, claims }) {
  const path = `${orgPath(claims.org_id)}/zoom/activity`;
  const results = h('div', { 'aria-live': 'polite' });
  const paging = newPaging();
  root.append(...pageHeading(t('activity.title'), t('activity.intro')), results);

  async function load() {
    loading(results);
    try {
      const res = await call('GET', path, { query: { pageSize, pageToken: paging.current }, signal });
      paging.next = res.nextPageToken || '';
      const entries = res.entries || [];
      done(results);
      clear(results);
      if (!entries.length && !paging.stack.length) {
        results.append(empty(t('activity.none'), t('activity.noneHelp')));
        return;
      }
      results.append(h('table', { class: 'table' },
        h('caption', { class: 'visually-hidden', text: t('activity.caption') }),
        h('thead', null, h('tr', null, ['activity.when', 'activity.who', 'activity.what', 'activity.member', 'activity.details'].map((k) => h('th', { scope: 'col', text: t(k) })))),
        h('tbody', null, entries.map((e) => {
          const kind = enumName(e.kind, 'ACTIVITY_KIND_');
          return h('tr', { class: 'activity-row', 'data-kind': kind },
            h('td', null, h('time', { datetime: e.time, text: formatDateTime(e.time) })),
            h('td', { text: actorText(e.actor, claims.sub) }),
            h('th', { scope: 'row', text: has(`activityKind.${kind}`) ? t(`activityKind.${kind}`) : kind }),
            h('td', { text: e.userId || '—' }),
            h('td', { class: 'muted', text: detailsText(e.details) || '—' }));
        }))),
      pager(t('activity.pages'), paging, (_, dir) => { turn(paging, dir); load(); }));
    } catch (err) {
      if (err.name === 'AbortError') return;
      done(results);
      clear(results).append(errorBox(err, load));
    }
  }
  load();
}
