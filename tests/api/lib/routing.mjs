// Helpers for the routing resources: hours of operation, queues, routing
// profiles, entry points. Each create helper asserts 201 and returns the object.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { api, show } from './daemon.mjs';
import { routeTable, unique } from './identity.mjs';

export const WEEKDAYS_9_TO_5 = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY']
  .map((day) => ({ day, start: '09:00', end: '17:00' }));

async function create(d, token, path, body, what) {
  const r = await api(d.url, 'POST', path, { key: token, body });
  assert.equal(r.status, 201, `create ${what}: ${show(r)}`);
  return r.json;
}

export function createHours(d, token, iid, body = {}) {
  return create(d, token, `/v1/instances/${iid}/hours-of-operation`,
    { name: unique('hours'), time_zone: 'Europe/Paris', config: WEEKDAYS_9_TO_5, ...body }, 'hours of operation');
}

export function createQueue(d, token, iid, hoursId, body = {}) {
  return create(d, token, `/v1/instances/${iid}/queues`,
    { name: unique('queue'), hours_of_operation_id: hoursId, ...body }, 'queue');
}

export function createRoutingProfile(d, token, iid, queues = [], body = {}) {
  return create(d, token, `/v1/instances/${iid}/routing-profiles`,
    { name: unique('rp'), queues, concurrency: { CHAT: 2 }, ...body }, 'routing profile');
}

/** Whether the daemon has the flows routes (they come with another change). */
export function haveFlows() {
  return routeTable().some((r) => r.method === 'POST' && r.path === '/v1/instances/{iid}/flows');
}

// The smallest flow of the contract's language: disconnect at once.
const MINIMAL_FLOW = {
  Version: '2019-10-30',
  StartAction: 'bye',
  Actions: [{ Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} }],
};

/** A flow id the entry points of the instance accept: a real flow once flows exist, else any well-formed id. */
export async function flowIdFor(d, token, iid) {
  if (!haveFlows()) return `fl_${crypto.randomBytes(16).toString('base64url')}`;
  const r = await api(d.url, 'POST', `/v1/instances/${iid}/flows`, { key: token, body: { name: unique('flow'), content: MINIMAL_FLOW } });
  assert.equal(r.status, 201, `create flow: ${show(r)}`);
  return r.json.id;
}

export async function createEntryPoint(d, token, iid, flowId, body = {}) {
  return create(d, token, `/v1/instances/${iid}/entry-points`,
    { name: unique('ep'), type: 'CHAT', flow_id: flowId, ...body }, 'entry point');
}
