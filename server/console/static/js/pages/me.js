// My Zoom (any member): which Zoom account serves my bookings and why (the
// resolver's answer), connecting or disconnecting my personal account, and
// detaching from or reattaching to the organization's account when allowed.
import { h, clear, append } from '../dom.js';
import { t, formatDateTime, has } from '../i18n.js';
import { call, userPath, enumName } from '../api.js';
import { pageHeading, loading, done, errorBox, announce } from '../ui.js';
import { stateBadge, reasonText } from './org.js';

const pollEvery = 2000;
// watchFor bounds how long the page waits for a personal sign-in at Zoom.
const watchFor = 15 * 60 * 1000;

export function render({ root, signal, claims }) {
  const base = userPath(claims.org_id, claims.sub);
  let timer = 0;
  signal.addEventListener('abort', () => clearTimeout(timer));
  const body = h('div');
  const notice = h('div', { class: 'notices' });
  root.append(...pageHeading(t('me.title'), t('me.intro')), notice, body);

  const show = (el) => notice.replaceChildren(el);

  // act runs a personal action and redraws with the setup it returns.
  async function act(button, verb, okKey) {
    button.disabled = true;
    notice.replaceChildren();
    try {
      await call('POST', `${base}/zoom:${verb}`, { body: {}, signal });
      show(h('p', { class: 'success', text: t(okKey) }));
      announce(t(okKey));
      await load();
      document.querySelector('main h1')?.focus();
    } catch (err) {
      if (err.name === 'AbortError') return;
      button.disabled = false;
      show(errorBox(err));
    }
  }

  // connectPersonal sends a new tab to the address the API returns, which
  // leads to Zoom's sign-in and back to the service, and watches for the new
  // connection here. The tab is opened at the click, before the API answers,
  // so that popup blockers let it through; without one, this tab goes.
  async function connectPersonal(button) {
    button.disabled = true;
    notice.replaceChildren();
    const zoomTab = window.open('', '_blank');
    if (zoomTab) zoomTab.opener = null;
    try {
      const res = await call('POST', `${base}/zoom:connect`, { body: {}, signal });
      const target = res.authorizeUrl || res.installUrl;
      if (!zoomTab) {
        window.location.assign(target);
        return;
      }
      zoomTab.location.assign(target);
      show(h('p', { class: 'notice', text: t('me.finishInTab') }));
      announce(t('me.finishInTab'));
      button.disabled = false;
      watchForPersonal(Date.now() + watchFor);
    } catch (err) {
      if (zoomTab) zoomTab.close();
      if (err.name === 'AbortError') return;
      button.disabled = false;
      show(errorBox(err));
    }
  }

  // watchForPersonal re-reads the setup until the personal connection is
  // active (the person finished in the other tab) or until the deadline.
  function watchForPersonal(deadline) {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        const { setup } = await call('GET', `${base}/zoom`, { signal });
        if (enumName(setup?.personal?.state, 'CONNECTION_STATE_') === 'ACTIVE') {
          await load();
          show(h('p', { class: 'success', text: t('me.personalNow') }));
          announce(t('me.personalNow'));
          return;
        }
      } catch (err) {
        if (err.name === 'AbortError') return;
      }
      if (Date.now() < deadline) watchForPersonal(deadline);
    }, pollEvery);
  }

  function draw(setup, account) {
    done(body);
    const source = enumName(account.source, 'CONNECTION_SOURCE_') || 'NONE';
    const state = enumName(account.state, 'CONNECTION_STATE_');
    const reason = enumName(account.reason, 'RESOLUTION_REASON_');
    const effective = h('section', { class: 'card', 'aria-labelledby': 'effective-heading' },
      h('h2', { id: 'effective-heading', text: t('me.effectiveHeading') }),
      h('p', { class: 'effective' }, h('strong', { text: t(`me.source.${source}`) }), ' ', state && source !== 'NONE' ? stateBadge(state) : null),
      account.zoomEmail ? h('p', { text: t('me.host', { email: account.zoomEmail, account: account.zoomAccountId || '—' }) }) : null,
      has(`resolution.${reason}`) ? h('p', { text: t(`resolution.${reason}`) }) : null,
      account.explanation ? h('p', { class: 'explanation' }, h('span', { class: 'muted', text: t('me.explanation') }), ' ',
        h('span', { lang: 'en', text: account.explanation })) : null,
      account.shadowed ? h('p', { class: 'muted', text: t('me.shadowed') }) : null,
      account.fallback ? h('p', { class: 'muted', text: t('me.fallback', { email: account.fallback.zoomEmail || '—' }) }) : null);

    const personal = setup.personal;
    const personalSection = h('section', { class: 'card', 'aria-labelledby': 'personal-heading' },
      h('h2', { id: 'personal-heading', text: t('me.personalHeading') }));
    if (personal) {
      const pstate = enumName(personal.state, 'CONNECTION_STATE_');
      append(personalSection, [
        h('p', null, t('me.personalConnected', { email: personal.zoomEmail || '—' }), ' ', stateBadge(pstate)),
        personal.connectedAt ? h('p', { class: 'muted', text: t('me.since', { when: formatDateTime(personal.connectedAt) }) }) : null,
        reasonText(personal.reason) ? h('p', { text: reasonText(personal.reason) }) : null,
        h('div', { class: 'actions' },
          pstate === 'NEEDS_RECONNECT' ? h('button', { type: 'button', text: t('me.reconnectPersonal'), onclick: (ev) => connectPersonal(ev.currentTarget) }) : null,
          h('button', { type: 'button', class: 'danger', text: t('me.disconnectPersonal'), onclick: (ev) => act(ev.currentTarget, 'disconnect', 'me.personalDisconnected') }))]);
    } else {
      personalSection.append(h('p', { text: t('me.personalNone') }),
        h('div', { class: 'actions' }, h('button', { type: 'button', text: t('me.connectPersonal'), onclick: (ev) => connectPersonal(ev.currentTarget) })));
    }

    const orgSection = h('section', { class: 'card', 'aria-labelledby': 'orgconn-heading' },
      h('h2', { id: 'orgconn-heading', text: t('me.orgHeading') }));
    // the organization's account is in play when it serves, would serve, or is being connected
    const orgInPlay = ['ORG_CONNECTED', 'USER_NOT_IN_ZOOM_ACCOUNT', 'ORG_NEEDS_RECONNECT', 'ORG_PENDING'].includes(reason) ||
      Boolean(account.shadowed || account.fallback);
    if (setup.detached) {
      orgSection.append(h('p', { text: t('me.detached') }),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', text: t('me.reattach'), onclick: (ev) => act(ev.currentTarget, 'reattach', 'me.reattached') })));
    } else if (!orgInPlay) {
      orgSection.append(h('p', { class: 'muted', text: t('me.noOrg') }));
    } else if (setup.canDetach) {
      orgSection.append(h('p', { text: t('me.canDetach') }),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', text: t('me.detach'), onclick: (ev) => act(ev.currentTarget, 'detach', 'me.detachedDone') })));
    } else {
      orgSection.append(h('p', { class: 'muted', text: t('me.cannotDetach') }));
    }
    clear(body).append(effective, personalSection, orgSection);
  }

  async function load() {
    try {
      const [setupRes, effRes] = await Promise.all([
        call('GET', `${base}/zoom`, { signal }),
        call('GET', `${base}/zoom:effective`, { signal }),
      ]);
      draw(setupRes.setup || {}, effRes.account || {});
    } catch (err) {
      if (err.name === 'AbortError') return;
      done(body);
      clear(body).append(errorBox(err, () => { loading(body); load(); }));
    }
  }
  // coming back from Zoom's sign-in (back button, restored page) shows the new state
  window.addEventListener('pageshow', (ev) => { if (ev.persisted && !signal.aborted) load(); }, { signal });
  loading(body);
  load();
}
