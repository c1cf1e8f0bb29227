// Parses an ICS file with ical.js (the parser Thunderbird uses) and prints its events as JSON.
// Usage: node parse-ics.mjs FILE. Exits non-zero on any parse error.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const root = new ICAL.Component(ICAL.parse(text));
for (const vtz of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
}
const events = root.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    summary: event.summary,
    start: event.startDate.toJSDate().toISOString(),
    allDay: event.startDate.isDate,
    end: event.endDate ? event.endDate.toJSDate().toISOString() : null,
    status: component.getFirstPropertyValue("status"),
  };
});
console.log(JSON.stringify({ name: root.getFirstPropertyValue("x-wr-calname"), events }));
