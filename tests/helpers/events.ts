import type { NewEvent } from '../../lib/events/new-event.js';

/**
 * An event as `insertEvents` takes it: an `action` with `{}` for data, a fresh uuid, stored now, no
 * student; `over` sets the rest.
 */
export const newEvent = (over: Partial<NewEvent> & Pick<NewEvent, 'sessionToken'>): NewEvent => ({
  eventUuid: crypto.randomUUID(),
  email: null,
  name: null,
  studentId: null,
  eventType: 'action',
  eventData: '{}',
  clientTs: null,
  createdAt: new Date(),
  ...over,
});
