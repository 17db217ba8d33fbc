/// <reference types="node" />
// The lab panel shows the session's cost with formatHours; its figures are checked on the same
// table as the hub's cost function and the spawn form (tests/fixtures/cost-cases.json).
import { readFileSync } from 'fs';
import { join } from 'path';

import { formatHours } from '../format';

interface CostCase {
  gpus: number;
  hours: number;
  price: number;
  gpu_hours: number;
  form_text: string;
  lab_text: string;
  lab_differs_from_form?: boolean;
  note?: string;
}

const TABLE = join(__dirname, '..', '..', '..', '..', 'tests', 'fixtures', 'cost-cases.json');
const CASES: CostCase[] = JSON.parse(readFileSync(TABLE, 'utf8')).cases;

describe('the lab panel on the shared table of costs', () => {
  it('has the whole table', () => {
    expect(CASES.length).toBeGreaterThan(10);
  });

  it.each(CASES.map(c => [`${c.gpus} x ${c.hours} h x ${c.price}`, c] as [string, CostCase]))(
    'shows %s as the table says', (_name, c) => {
      expect(formatHours(c.gpu_hours)).toBe(c.lab_text);
    });

  it.each(CASES.map(c => [`${c.gpus} x ${c.hours} h x ${c.price}`, c] as [string, CostCase]))(
    'shows %s as the spawn form does, unless the table says why not', (_name, c) => {
      const lab = Number(formatHours(c.gpu_hours).replace(/[, h]/g, ''));
      const form = Number(c.form_text.replace(/,/g, ''));
      // the form words the hold (whole GPU-seconds, rounded up), the panel the cost itself
      expect(lab === form).toBe(!c.lab_differs_from_form);
    });
});
