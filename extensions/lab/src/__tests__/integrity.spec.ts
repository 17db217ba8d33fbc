import { integrityBadge, integrityOf, verifiedNote } from '../integrity';

const CHECKED = '2026-12-04T18:30:12.345678+00:00';

function integrity(state: string, message = `${state} message`, checkedAt: string | null = CHECKED) {
  return { state, checked_at: checkedAt, message };
}

describe('integrityBadge', () => {
  it.each([
    ['changed', 'Changed since curation'],
    ['missing', 'Missing'],
    ['unreadable', 'Unreadable']
  ])('warns about %p data as %p, the message as tooltip and in the accessible name', (state, text) => {
    const badge = integrityBadge(integrity(state, 'Distribution 1: the data moved (checked 2026-12-04 18:30 UTC)'));
    expect(badge).toEqual({
      state, text, title: 'Distribution 1: the data moved (checked 2026-12-04 18:30 UTC)',
      label: `${text}: Distribution 1: the data moved (checked 2026-12-04 18:30 UTC)`
    });
  });

  it('does not repeat the state in the accessible name when the message names it already', () => {
    const message = 'Distribution 2: Changed since curation: the data no longer matches its curated SHA-256.';
    expect(integrityBadge(integrity('changed', message))?.label).toBe(message);
  });

  it('falls back to the badge text when the service gives no message', () => {
    expect(integrityBadge(integrity('missing', ''))).toMatchObject({ title: 'Missing', label: 'Missing' });
  });

  it.each(['verified', 'unchecked', 'no-checksum', 'some-future-state', 'constructor', 'toString'])(
    'shows nothing for %p', state => {
      expect(integrityBadge(integrity(state))).toBeNull();
    });

  it.each([undefined, null, 'changed', 42, {}, { state: 7 }, []])(
    'shows nothing for an absent or malformed integrity (%p), as from a service older than integrity', value => {
      expect(integrityBadge(value)).toBeNull();
    });
});

describe('verifiedNote', () => {
  it('dates verified data quietly, in UTC', () => {
    expect(verifiedNote(integrity('verified'))).toBe('Verified 2026-12-04 18:30 UTC');
    expect(verifiedNote(integrity('verified', '', '2026-12-04T20:30:00+02:00'))).toBe('Verified 2026-12-04 18:30 UTC');
  });

  it.each([
    integrity('changed'), integrity('unchecked', 'never', null), integrity('verified', 'when?', null),
    integrity('verified', 'bad date', 'yesterday'), undefined
  ])('says nothing for %p', value => {
    expect(verifiedNote(value)).toBeNull();
  });
});

describe('integrityOf', () => {
  it('keeps what the service sent and fills what an older or partial answer lacks', () => {
    expect(integrityOf(integrity('verified'))).toEqual(integrity('verified'));
    expect(integrityOf({ state: 'changed' })).toEqual({ state: 'changed', checked_at: null, message: '' });
  });
});
