import { describeCopy, wantsStarter, withoutStarter } from '../starterCopy';

describe('describeCopy', () => {
  it('counts what was copied and what the user already had', () => {
    expect(describeCopy({ folder: 'factoryhub-starter', copied: ['a', 'b'], kept: ['c'] })).toBe(
      'Starter notebooks copied to factoryhub-starter/ (2 files; 1 file you already had kept as they are).'
    );
    expect(describeCopy({ folder: 'factoryhub-starter', copied: ['a'], kept: [] })).toBe(
      'Starter notebooks copied to factoryhub-starter/ (1 file).'
    );
  });

  it('says nothing changed when every file was already there', () => {
    expect(describeCopy({ folder: 'factoryhub-starter', copied: [], kept: ['a'] })).toBe(
      'Your starter notebooks are in factoryhub-starter/ (nothing changed: your copies are kept).'
    );
  });
});

describe('the hub home page link', () => {
  it('asks for the copy with ?factoryhub-starter, and only then', () => {
    expect(wantsStarter('?factoryhub-starter=1')).toBe(true);
    expect(wantsStarter('?reset&factoryhub-starter')).toBe(true);
    expect(wantsStarter('')).toBe(false);
    expect(wantsStarter('?factoryhub-starters=1')).toBe(false);
  });

  it('leaves the address without it, so that a reload does not copy again', () => {
    expect(withoutStarter('https://hub.example.eu/user/ada/lab?factoryhub-starter=1')).toBe(
      'https://hub.example.eu/user/ada/lab'
    );
    expect(withoutStarter('https://h/user/ada/lab/tree/x?reset&factoryhub-starter=1#y')).toBe(
      'https://h/user/ada/lab/tree/x?reset=#y'
    );
  });
});
