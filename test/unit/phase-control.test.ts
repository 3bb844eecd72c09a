import { describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../client/definition-file.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign } from '../../domain/campaign.ts';
import {
  indicatorWindows,
  movePhase,
  PhaseMoveRefused,
  type CampaignWindows,
  type PhaseMoveContext,
} from '../../domain/phase-control.ts';
import { HOUR, zonedInstant } from '../../domain/time.ts';

const TZ = 'Asia/Shanghai';
const at = (y: number, m: number, d: number, h = 0, min = 0) =>
  zonedInstant(y, m, d, h, min, 0, TZ);

async function county() {
  const r = await loadDefinitionFile('examples/county-2026.yaml');
  const def = r.definition!;
  const calendar = new BusinessCalendar(r.calendar!);
  const plan = planCampaign(def, r.calendar!, calendar);
  const windows: CampaignWindows = {
    phases: plan.phases,
    dataEntry: Object.fromEntries(plan.indicators.map((i) => [i.code, i.dataEntry])),
  };
  const ctx: PhaseMoveContext = {
    calendar,
    dataEntry: def.phases.dataEntry,
    order: def.phases.dataEntry.order ?? def.indicators.map((i) => i.code),
  };
  return { def, calendar, windows, ctx };
}

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof PhaseMoveRefused) return e.message;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('moving a phase', () => {
  it('closes the phase under way now and brings the next one forward, its days laid out again on working days', async () => {
    const { windows, ctx, calendar } = await county();
    const now = windows.phases.training.start + 2 * HOUR;
    expect(windows.phases.dataEntry.start).toBeGreaterThan(now);
    const w = movePhase(windows, { phase: 'training', action: 'close' }, now, ctx);
    expect(w.phases.training.end).toBe(now);
    expect(w.phases.dataEntry.start).toBe(now);
    const slots = Object.values(w.dataEntry).sort((a, b) => a.start - b.start);
    expect(slots[0]!.start).toBe(now);
    for (const s of slots) expect(calendar.isWorkingDay(calendar.localDate(s.start))).toBe(true);
    // Two a day still, and the window ends with the last day.
    expect(Math.max(...slots.map((s) => s.end))).toBeLessThanOrEqual(w.phases.dataEntry.end);
    // Nothing else moved, and the input is left as it was.
    expect(w.phases.verification).toEqual(windows.phases.verification);
    expect(windows.phases.training.end).not.toBe(now);
  });

  it('closes data entry with every indicator due now at the latest, and starts verification now', async () => {
    const { windows, ctx } = await county();
    const now = windows.phases.dataEntry.start + HOUR;
    const w = movePhase(windows, { phase: 'dataEntry', action: 'close' }, now, ctx);
    for (const s of Object.values(w.dataEntry)) {
      expect(s.end).toBeLessThanOrEqual(now);
      expect(s.start).toBeLessThanOrEqual(now);
    }
    expect(w.phases.verification.start).toBe(now);
    expect(indicatorWindows(w, 'kbqy').dataEntry).toEqual(w.dataEntry.kbqy);
  });

  it('extends a phase to a later end and gives every indicator that end for its data entry', async () => {
    const { windows, ctx } = await county();
    const now = windows.phases.dataEntry.start + HOUR;
    const until = windows.phases.dataEntry.end + 24 * HOUR;
    const w = movePhase(windows, { phase: 'dataEntry', action: 'extend', until }, now, ctx);
    expect(w.phases.dataEntry.end).toBe(until);
    for (const s of Object.values(w.dataEntry)) expect(s.end).toBe(until);
    expect(w.phases.verification.start).toBe(Math.max(windows.phases.verification.start, until));
  });

  it('pushes the next phase back when an extension overlaps it, but never past its end', async () => {
    const { windows, ctx } = await county();
    const now = windows.phases.training.start + HOUR;
    const until = windows.phases.dataEntry.start + 24 * HOUR;
    const w = movePhase(windows, { phase: 'training', action: 'extend', until }, now, ctx);
    expect(w.phases.training.end).toBe(until);
    expect(w.phases.dataEntry.start).toBe(until);
    expect(Math.min(...Object.values(w.dataEntry).map((s) => s.start))).toBeGreaterThanOrEqual(
      until,
    );
    expect(
      refusal(() =>
        movePhase(
          windows,
          { phase: 'training', action: 'extend', until: windows.phases.dataEntry.end + HOUR },
          now,
          ctx,
        ),
      ),
    ).toMatch(/cannot end after dataEntry.*extend dataEntry first/);
  });

  it('refuses, with the reason, a phase already over, one not under way, and an end not later', async () => {
    const { windows, ctx } = await county();
    const inDataEntry = windows.phases.dataEntry.start + HOUR;
    expect(
      refusal(() => movePhase(windows, { phase: 'training', action: 'close' }, inDataEntry, ctx)),
    ).toMatch(/training \(前期培训\) is already over: it ended 2026-/);
    expect(
      refusal(() => movePhase(windows, { phase: 'reporting', action: 'close' }, inDataEntry, ctx)),
    ).toMatch(/not the phase under way.*begins 2026-/);
    expect(
      refusal(() =>
        movePhase(
          windows,
          { phase: 'dataEntry', action: 'extend', until: windows.phases.dataEntry.end - HOUR },
          inDataEntry,
          ctx,
        ),
      ),
    ).toMatch(/not later than the current end/);
    expect(
      refusal(() =>
        movePhase(
          windows,
          { phase: 'dataEntry', action: 'extend', until: inDataEntry - HOUR },
          inDataEntry,
          ctx,
        ),
      ),
    ).toMatch(/not in the future/);
    expect(
      refusal(() => movePhase(windows, { phase: 'dataEntry', action: 'extend' }, inDataEntry, ctx)),
    ).toMatch(/needs --until/);
  });

  it('works the same for a campaign run in another year, whatever the date today', async () => {
    const { windows, ctx } = await county();
    // The windows of the example sit in 2026; a move judged from "now" in December or in the
    // next year refuses as over, never crashes.
    for (const now of [at(2026, 12, 31, 23, 0), at(2027, 3, 1, 9, 0)])
      expect(
        refusal(() => movePhase(windows, { phase: 'reporting', action: 'close' }, now, ctx)),
      ).toMatch(/already over/);
  });
});
