// Builds task inputs from the quick demo definition for workflow tests.
import { loadDefinitionFile } from '../../client/definition-file.ts';
import type { ResolvedCalendar } from '../../domain/calendar.ts';
import { rosterOf, taskPolicyOf } from '../../domain/campaign-parts.ts';
import type { CampaignDefinition } from '../../domain/definition.ts';
import { taskIdOf, type TaskInput } from '../../domain/task.ts';

export interface Fixture {
  def: CampaignDefinition;
  calendar: ResolvedCalendar;
}

export async function demoFixture(): Promise<Fixture> {
  const r = await loadDefinitionFile('examples/quick-demo.yaml');
  if (!r.definition || !r.calendar) throw new Error('the quick demo definition must be valid');
  return { def: r.definition, calendar: r.calendar };
}

let counter = 0;

export function taskInput(f: Fixture, due: number, over: Partial<TaskInput> = {}): TaskInput {
  const kbqy = f.def.indicators.find((i) => i.code === 'kbqy')!;
  const key = `t${Date.now().toString(36)}${(counter++).toString(36)}`;
  const base: TaskInput = {
    taskId: taskIdOf({
      campaignId: over.campaignId ?? f.def.campaign.id,
      indicator: 'kbqy',
      kind: 'questionnaire',
      unitId: 'scjgj',
      key,
    }),
    campaignId: f.def.campaign.id,
    indicator: 'kbqy',
    kind: 'questionnaire',
    title: '开办企业 问卷填报',
    unitId: 'scjgj',
    assignee: 'scjgj-staff1',
    review: true,
    due,
    policy: {
      ...taskPolicyOf(f.def),
      reminders: ['P3D', 'P1D', 'PT2H'],
      warningWindow: 'P1D',
      escalation: [
        { after: { duration: 'PT4H' }, notify: ['assignee', 'deputy'], label: '分管领导督办' },
        { after: { duration: 'P1D' }, notify: ['head'], label: '一把手督办' },
        { after: { duration: 'P2D' }, notify: ['bureau', 'leadership'], label: '县领导约谈' },
      ],
      returnDue: { duration: 'P2D' },
    },
    calendar: f.calendar,
    roster: rosterOf(f.def),
    completion: { note: false, evidence: false, fields: kbqy.fields },
    channels: [{ type: 'console', id: 'console' }],
  };
  return { ...base, ...over, taskId: over.taskId ?? base.taskId };
}

export const goodData = { procedures: 3, days: 1.5, onlineRate: 98 };

/**
 * Records the fixture's campaign (its row only, no roster) in a test database: a task belongs
 * to a recorded campaign (migration 064's keys), as the worker's recordCampaign ensures before
 * a campaign starts any task. Safe to call twice.
 */
export async function recordFixtureCampaign(
  pool: { query(text: string, values: unknown[]): Promise<unknown> },
  f: Fixture,
  campaignId = f.def.campaign.id,
): Promise<void> {
  const c = { ...f.def.campaign, id: campaignId };
  await pool.query(
    `INSERT INTO campaigns (campaign_id, name, county, year, time_zone, definition, calendar, workflow_id, started_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $1, 'test') ON CONFLICT (campaign_id) DO NOTHING`,
    [
      c.id,
      c.name,
      c.county,
      c.year,
      f.calendar.timeZone,
      JSON.stringify(f.def),
      JSON.stringify(f.calendar),
    ],
  );
}
