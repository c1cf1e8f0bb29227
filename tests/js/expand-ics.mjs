// Expands every event of ICS files with ical.js (Mozilla's library, used by Thunderbird) and
// prints each occurrence as JSON: the oracle the conformance suite compares the project with.
// Usage: node expand-ics.mjs JOBS.json
//   JOBS.json: {"from": ISO, "to": ISO, "steps": N,
//               "files": [{"path", "tz": zone of floating times, "zones": {TZID: VTIMEZONE}}]}
// ical.js has no zone database: zones a file names without defining them come in "zones".
// One JSON line per file: {"path", "occurrences": [...]} or {"path", "error"}.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const jobs = JSON.parse(readFileSync(process.argv[2], "utf8"));
const from = ICAL.Time.fromJSDate(new Date(jobs.from), true);
const to = ICAL.Time.fromJSDate(new Date(jobs.to), true);

function instant(time) {
  // All-day: the date itself; timed: the UTC instant (floating read in the local zone).
  return time.isDate ? time.toString() : time.toJSDate().toISOString();
}

function inWindow(details) {
  const start = details.startDate;
  const end = details.endDate ?? start;
  return start.compare(to) < 0 && (end.compare(from) > 0 || start.compare(from) >= 0);
}

function single(uid, event) {
  const details = { item: event, startDate: event.startDate, endDate: event.endDate };
  return inWindow(details) ? [describe(uid, details)] : [];
}

function describe(uid, details) {
  const item = details.item;
  const start = details.startDate;
  let end = details.endDate ? instant(details.endDate) : null;
  if (end && !start.isDate && details.endDate.isDate) {
    end = details.endDate.toJSDate().toISOString(); // a timed event ending at a date's midnight
  }
  return {
    uid,
    start: instant(start),
    end,
    allDay: details.startDate.isDate,
    summary: item.summary ?? "",
    status: item.component.getFirstPropertyValue("status"),
  };
}

function expand(path, zones, tz) {
  // Each file alone: its own zone definitions, its floating times in its calendar's zone.
  ICAL.TimezoneService.reset();
  process.env.TZ = tz;
  const text = readFileSync(path, "utf8");
  const parsed = ICAL.parse(text);
  const roots = Array.isArray(parsed[0]) ? parsed : [parsed];
  const occurrences = [];
  for (const jcal of roots) {
    const root = new ICAL.Component(jcal);
    for (const vtz of root.getAllSubcomponents("vtimezone")) {
      ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
    }
    for (const [tzid, definition] of Object.entries(zones)) {
      if (!ICAL.TimezoneService.has(tzid)) {
        const component = ICAL.Component.fromString(definition);
        ICAL.TimezoneService.register(new ICAL.Timezone({ component, tzid }));
      }
    }
    const byUid = new Map();
    for (const vevent of root.getAllSubcomponents("vevent")) {
      if (!vevent.hasProperty("dtstart")) continue; // no date: nothing to publish
      const uid = vevent.getFirstPropertyValue("uid") ?? "";
      if (!byUid.has(uid)) byUid.set(uid, []);
      byUid.get(uid).push(vevent);
    }
    for (const [uid, components] of byUid) {
      const masters = components.filter((c) => !c.hasProperty("recurrence-id"));
      const overrides = components.filter((c) => c.hasProperty("recurrence-id"));
      if (masters.length === 0) {
        for (const c of overrides) occurrences.push(...single(uid, new ICAL.Event(c)));
        continue;
      }
      for (const master of masters) {
        const event = new ICAL.Event(master);
        for (const c of overrides) event.relateException(c);
        if (!event.isRecurring()) {
          occurrences.push(...single(uid, event));
          continue;
        }
        const iterator = event.iterator();
        let steps = 0;
        for (let next = iterator.next(); next; next = iterator.next()) {
          if (++steps > jobs.steps) break;
          const details = event.getOccurrenceDetails(next);
          const start = details.startDate;
          if (start.compare(to) >= 0 && next.compare(to) >= 0) break;
          if (inWindow(details)) occurrences.push(describe(uid, details));
        }
      }
    }
  }
  return occurrences;
}

for (const file of jobs.files) {
  try {
    console.log(JSON.stringify({ path: file.path, occurrences: expand(file.path, file.zones, file.tz) }));
  } catch (error) {
    console.log(JSON.stringify({ path: file.path, error: String(error) }));
  }
}
