// Organization → Zoom: the org connection's state in plain words, the
// shareable install link while a Zoom admin is awaited (the page polls and
// turns active by itself), the connected account, disconnect with a preview
// of who loses Zoom, and reconnect.
import { h, clear, uid } from '../dom.js';
import { t, formatDateTime, formatNumber } from '../i18n.js';
import { call, orgPath, enumName } from '../api.js';
import { pageHeading, loading, done, errorBox, badge, announce } from '../ui.js';

const pollEvery = 2000;
// links keeps the install link handed out in this tab (by org): the service
// stores only its hash, so after a reload it can be replaced, not shown.
const links = new Map();

const tones = { NOT_CONNECTED: 'grey', PENDING: 'amber', ACTIVE: 'green', NEEDS_RECONNECT: 'red' };

export function stateBadge(state) {
  return badge(t(`state.${state}`), tones[state] || 'grey');
}

export function reasonText(reason) {
  const r = enumName(reason, 'CONNECTION_STATE_REASON_');
  return r && r !== 'UNSPECIFIED' ? t(`stateReason.${r}`) : '';
}

export function render({ root, signal, claims }) {
  const org = claims.org_id;
  const body = h('div');
  const notice = h('div', { class: 'notices' });
  root.append(...pageHeading(t('org.title'), t('org.intro')), notice, body);
  let timer = 0;
  signal.addEventListener('abort', () => clearTimeout(timer));

  const show = (el) => notice.replaceChildren(el);
  const fail = (err) => show(errorBox(err));

  async function load() {
    clearTimeout(timer);
    try {
      const { connection } = await call('GET', `${orgPath(org)}/zoom`, { signal });
      draw(connection || {});
    } catch (err) {
      if (err.name === 'AbortError') return;
      done(body);
      clear(body).append(errorBox(err, () => { loading(body); load(); }));
    }
  }

  // poll re-reads the connection while it waits for the Zoom admin.
  function poll() {
    timer = setTimeout(async () => {
      try {
        const { connection } = await call('GET', `${orgPath(org)}/zoom`, { signal });
        const state = enumName(connection.state, 'CONNECTION_STATE_');
        if (state === 'PENDING') return poll();
        if (state === 'ACTIVE') {
          links.delete(org);
          show(h('p', { class: 'success', text: t('org.nowActive') }));
          announce(t('org.nowActive'));
        }
        draw(connection);
      } catch (err) {
        if (err.name !== 'AbortError') poll();
      }
    }, pollEvery);
  }

  async function start(button) {
    button.disabled = true;
    try {
      const res = await call('POST', `${orgPath(org)}/zoom:connect`, { body: {}, signal });
      links.set(org, { url: res.installUrl, expiresAt: res.expiresAt });
      show(h('p', { class: 'success', text: t('org.linkReady') }));
      announce(t('org.linkReady'));
      draw(res.connection);
      document.getElementById('install-link')?.focus();
    } catch (err) {
      if (err.name === 'AbortError') return;
      button.disabled = false;
      fail(err);
    }
  }

  function draw(conn) {
    clearTimeout(timer);
    done(body);
    const state = enumName(conn.state, 'CONNECTION_STATE_') || 'NOT_CONNECTED';
    const reason = reasonText(conn.reason);
    const summary = h('section', { class: 'card', 'aria-labelledby': 'state-heading' },
      h('h2', { id: 'state-heading' }, t('org.stateHeading'), ' ', stateBadge(state)),
      h('p', { class: 'state-text', text: t(`org.state.${state}`) }),
      reason ? h('p', { class: 'reason' }, h('strong', { text: t('org.why') }), ' ', reason) : null);
    clear(body).append(summary);
    if (state === 'PENDING') body.append(pendingSection(conn));
    if (state === 'ACTIVE' || state === 'NEEDS_RECONNECT') body.append(accountSection(conn));
    const actions = h('div', { class: 'actions' });
    if (state === 'NOT_CONNECTED') {
      summary.append(h('p', { class: 'muted', text: t('org.connectHelp') }));
      actions.append(h('button', { type: 'button', text: t('org.connect'), onclick: (ev) => start(ev.currentTarget) }));
    }
    if (state === 'NEEDS_RECONNECT') {
      actions.append(h('button', { type: 'button', text: t('org.reconnect'), onclick: (ev) => start(ev.currentTarget) }));
    }
    if (state === 'ACTIVE' || state === 'NEEDS_RECONNECT') {
      actions.append(h('button', { type: 'button', class: 'danger', text: t('org.disconnect'), onclick: () => confirmDisconnect() }));
    }
    if (actions.childElementCount) summary.append(actions);
    if (state === 'PENDING') poll();
  }

  function pendingSection(conn) {
    const link = links.get(org);
    const section = h('section', { class: 'card', 'aria-labelledby': 'link-heading' }, h('h2', { id: 'link-heading', text: t('org.linkHeading') }));
    if (link) {
      const copied = h('p', { class: 'muted', role: 'status' });
      const input = h('input', { id: 'install-link', type: 'text', readonly: true, value: link.url, class: 'link-field', spellcheck: 'false' });
      section.append(
        h('p', { text: t('org.linkHelp') }),
        h('label', { for: 'install-link', text: t('org.linkLabel') }),
        h('div', { class: 'copy-row' }, input,
          h('button', { type: 'button', class: 'secondary', text: t('org.copy'), onclick: async () => {
            input.select();
            try {
              await navigator.clipboard.writeText(link.url);
              copied.textContent = t('org.copied');
            } catch {
              copied.textContent = t('org.copyManually');
            }
          } })),
        copied,
        h('p', null, h('a', { href: link.url, target: '_blank', rel: 'noopener noreferrer', text: t('org.openLink') })));
    } else {
      section.append(h('p', { text: t('org.linkNotShown') }));
    }
    const expires = link?.expiresAt || conn.expiresAt;
    section.append(
      h('p', { text: t('org.linkExpires', { when: formatDateTime(expires), who: conn.pendingStartedBy || '—' }) }),
      h('p', { class: 'muted', text: t('org.waiting') }),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', text: t('org.replace'), onclick: (ev) => start(ev.currentTarget) })),
      h('p', { class: 'muted', text: t('org.replaceHelp') }));
    return section;
  }

  function accountSection(conn) {
    const rows = [
      ['org.account', conn.zoomAccountId],
      ['org.approvedBy', conn.installerEmail],
      ['org.connectedAt', formatDateTime(conn.connectedAt)],
      ['org.connectedBy', conn.connectedBy],
    ];
    return h('section', { class: 'card', 'aria-labelledby': 'account-heading' },
      h('h2', { id: 'account-heading', text: t('org.accountHeading') }),
      h('dl', { class: 'details' }, rows.map(([k, v]) => [h('dt', { text: t(k) }), h('dd', { text: v || '—' })])));
  }

  // confirmDisconnect lists who would lose Zoom before anything happens.
  function confirmDisconnect() {
    const titleId = uid('dialog-title');
    const list = h('div', { 'aria-live': 'polite' });
    const confirm = h('button', { type: 'button', class: 'danger', disabled: true, text: t('org.disconnectConfirm') });
    const cancel = h('button', { type: 'button', class: 'secondary', text: t('common.cancel') });
    const dialog = h('dialog', { 'aria-labelledby': titleId, class: 'dialog' },
      h('h2', { id: titleId, text: t('org.disconnectTitle') }),
      h('p', { text: t('org.disconnectHelp') }),
      list,
      h('div', { class: 'actions' }, cancel, confirm));
    const close = () => { dialog.close(); dialog.remove(); };
    cancel.addEventListener('click', close);
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();

    const members = [];
    async function more(token) {
      loading(list, t('org.affectedLoading'));
      try {
        const res = await call('GET', `${orgPath(org)}/zoom:previewDisconnect`, { query: { pageSize: 100, pageToken: token }, signal });
        members.push(...(res.affectedUsers || []));
        done(list);
        clear(list);
        if (!members.length) {
          list.append(h('p', { class: 'success', text: t('org.affectedNone') }));
        } else {
          list.append(h('p', { text: t('org.affectedCount', { n: formatNumber(members.length) + (res.nextPageToken ? '+' : '') }) }),
            h('ul', { class: 'affected', tabindex: '0', 'aria-label': t('org.affectedLabel') },
              members.map((m) => h('li', null, h('strong', { text: m.name || m.userId }), ' ', h('span', { class: 'muted', text: m.email || '' })))));
          if (res.nextPageToken) list.append(h('button', { type: 'button', class: 'secondary', text: t('org.affectedMore'), onclick: () => more(res.nextPageToken) }));
        }
        confirm.disabled = false;
      } catch (err) {
        if (err.name === 'AbortError') return;
        done(list);
        clear(list).append(errorBox(err, () => more(token)));
      }
    }
    more('');

    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      try {
        const res = await call('POST', `${orgPath(org)}/zoom:disconnect`, { body: {}, signal });
        close();
        const n = (res.affectedUsers || []).length;
        const msg = t('org.disconnected', { n: formatNumber(n) });
        show(h('p', { class: 'success', text: msg }));
        announce(msg);
        draw(res.connection || {});
        document.querySelector('main h1')?.focus();
      } catch (err) {
        if (err.name === 'AbortError') return;
        confirm.disabled = false;
        list.append(errorBox(err));
      }
    });
  }

  loading(body);
  load();
}
