// Parts of a campaign definition that workflows carry in their input: the roster (ids, names,
// units, roles; never contact details) and the task policy. Pure.
import type { CampaignDefinition } from './definition.ts';
import type { Roster, TaskPolicy } from './task.ts';

export function rosterOf(def: CampaignDefinition): Roster {
  return {
    units: def.units.map((u) => ({ id: u.id, name: u.name, kind: u.kind })),
    people: def.units.flatMap((u) =>
      u.people.map((p) => ({
        id: p.id,
        name: p.name,
        unitId: u.id,
        role: p.role,
        // No phone or handle: contact details stay in PostgreSQL (people), out of histories.
      })),
    ),
  };
}

export function taskPolicyOf(def: CampaignDefinition): TaskPolicy {
  return {
    reminders: def.policy.reminders,
    warningWindow: def.policy.warningWindow,
    escalation: def.policy.escalation,
    returnDue: def.policy.returnDue,
    extensionApprovers: def.policy.extensionApprovers,
    maxExtensions: def.policy.maxExtensions,
  };
}
