// Options: every org setting as a labelled switch. A change is saved at once
// with a field mask naming just that setting, and the switch shows the value
// the service answers with.
import { h, clear } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';
import { call, orgPath } from '../api.js';
import { pageHeading, loading, done, errorBox, announce } from '../ui.js';

// fields in the order of the product's help page; [JSON name, mask path].
const fields = [
  ['allowUsersToDetach', 'allow_users_to_detach'],
  ['zoomDefaultLocation', 'zoom_default_location'],
  ['autoMeetingSummary', 'auto_meeting_summary'],
  ['waitingRoom', 'waiting_room'],
  ['joinBeforeHost', 'join_before_host'],
  ['requirePasscode', 'require_passcode'],
];

export function render({ root, signal, claims }) {
  const path = `${orgPath(claims.org_id)}/zoom/settings`;
  const body = h('div');
  const status = h('div', { class: 'notices' });
  root.append(...pageHeading(t('options.title'), t('options.intro')), status, body);

  function draw(settings) {
    done(body);
    const updated = h('p', { class: 'muted', text: settings.updateTime ? t('options.updated', { when: formatDateTime(settings.updateTime) }) : '' });
    const list = h('ul', { class: 'switches' }, fields.map(([name, mask]) => {
      const id = `opt-${name}`;
      const input = h('input', { type: 'checkbox', role: 'switch', id, checked: Boolean(settings[name]), 'aria-describedby': `${id}-help` });
      input.addEventListener('change', async () => {
        const want = input.checked;
        input.disabled = true;
        status.replaceChildren();
        try {
          const res = (await call('PATCH', path, { query: { update_mask: mask }, body: { [name]: want }, signal })).settings || {};
          const got = Boolean(res[name]);
          input.checked = got;
          updated.textContent = res.updateTime ? t('options.updated', { when: formatDateTime(res.updateTime) }) : '';
          const msg = t(got ? 'options.savedOn' : 'options.savedOff', { name: t(`options.${name}`) });
          status.replaceChildren(h('p', { class: 'success', text: msg }));
          announce(msg);
        } catch (err) {
          if (err.name === 'AbortError') return;
          input.checked = !want;
          status.replaceChildren(errorBox(err));
        }
        input.disabled = false;
        input.focus();
      });
      return h('li', { class: 'switch-row' },
        input,
        h('div', null,
          h('label', { for: id, text: t(`options.${name}`) }),
          h('p', { id: `${id}-help`, class: 'muted', text: t(`options.${name}.help`) })));
    }));
    clear(body).append(h('section', { class: 'card', 'aria-label': t('options.title') }, list, updated));
  }

  async function load() {
    loading(body);
    try {
      const res = await call('GET', path, { signal });
      draw(res.settings || {});
    } catch (err) {
      if (err.name === 'AbortError') return;
      done(body);
      clear(body).append(errorBox(err, load));
    }
  }
  load();
}
