// Sign-in. In production the host product hands the console a token (URL
// fragment or postMessage) and this page only says so. In dev mode the
// service lists the demo organization's people and mints a token for the
// one picked.
import { h, uid, append } from '../dom.js';
import { t } from '../i18n.js';
import { setToken } from '../session.js';
import { pageHeading, errorBox } from '../ui.js';
import { ApiError } from '../api.js';

async function devToken(person) {
  let res;
  try {
    res = await fetch('dev/token', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ person }), cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, '', 'NETWORK');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.message || '', '');
  return data.token;
}

export function render({ root, config, notice, onSignedIn }) {
  const people = config.devSignIn || [];
  if (!people.length) {
    append(root, [pageHeading(t('signin.title')),
      notice ? h('p', { class: 'notice', text: notice }) : null,
      h('p', { text: t('signin.host') })]);
    return;
  }
  const feedback = h('div');
  const legendId = uid('legend');
  const form = h('form', { class: 'card', 'aria-labelledby': legendId, onsubmit: async (ev) => {
    ev.preventDefault();
    const person = new FormData(form).get('person');
    feedback.replaceChildren();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      if (!setToken(await devToken(person))) throw new ApiError(0, t('signin.badToken'), '');
      onSignedIn();
    } catch (err) {
      feedback.append(errorBox(err));
      button.disabled = false;
    }
  } },
  h('fieldset', null,
    h('legend', { id: legendId, text: t('signin.who') }),
    people.map((p, i) => {
      const id = uid('person');
      return h('div', { class: 'choice' },
        h('input', { type: 'radio', name: 'person', id, value: p.id, required: true, checked: i === 0 }),
        h('label', { for: id }, h('strong', { text: p.name }), ' · ', t(`role.${p.role}`), ' · ', h('span', { class: 'muted', text: p.email })));
    })),
  h('button', { type: 'submit', text: t('signin.submit') }));
  append(root, [pageHeading(t('signin.devTitle'), t('signin.devIntro', { org: 'acme' })),
    notice ? h('p', { class: 'notice', text: notice }) : null, form, feedback]);
}
