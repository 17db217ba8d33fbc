import { describeCopy } from '../starterCopy';

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
