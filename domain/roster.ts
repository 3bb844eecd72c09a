// A campaign's roster as the workflows carry it: its units and their people with their roles.
// A module of its own, so that the task rules (domain/task.ts) and the rectification's step
// checks (domain/rectification.ts) both read it without importing each other.
import type { Role, UnitKind } from './definition.ts';

export interface RosterPerson {
  id: string;
  name: string;
  unitId: string;
  role: Role;
  /** Only in inputs recorded before contact details left histories; never read. */
  handle?: string | undefined;
  /** Only in inputs recorded before contact details left histories; never read. */
  phone?: string | undefined;
}

export interface RosterUnit {
  id: string;
  name: string;
  kind: UnitKind;
}

export interface Roster {
  units: RosterUnit[];
  people: RosterPerson[];
}
