import assert from 'node:assert/strict';
import { gate } from '../../../../server/src/sync/rules/gate.ts';

const uat = { mainSwitch: true, mode: 'uat' as const };

describe('sync rules: gate', () => {
  it('main switch off holds everything, even in production', () => {
    const d = gate({ mainSwitch: false, mode: 'production' }, 'contact', 'toHubSpot', { emailaddress1: 'a@b.com' });
    assert.equal(d.action, 'hold');
    assert.match((d as { reason: string }).reason, /main switch is off/);
  });

  it('production syncs everything', () => {
    assert.deepEqual(gate({ mainSwitch: true, mode: 'production' }, 'account', 'toDynamics', {}), { action: 'sync' });
  });

  it('UAT contacts need ss.test in the email, both directions, case-insensitive', () => {
    assert.deepEqual(gate(uat, 'contact', 'toDynamics', { email: 'ann@SS.Test.example.com' }), { action: 'sync' });
    assert.deepEqual(gate(uat, 'lead', 'toHubSpot', { emailaddress1: 'bob+ss.test@x.com' }), { action: 'sync' });
    const no = gate(uat, 'lead', 'toHubSpot', { emailaddress1: 'bob@x.com', email: 'ss.test@x.com' });
    assert.equal(no.action, 'skip', 'the Dynamics side decides when syncing from Dynamics');
    assert.match((no as { reason: string }).reason, /emailaddress1 \('bob@x.com'\) does not contain 'ss.test'/);
    assert.equal(gate(uat, 'contact', 'toDynamics', {}).action, 'skip');
  });

  it('UAT companies and deals need SyncSmart in the name', () => {
    assert.equal(gate(uat, 'account', 'toHubSpot', { name: 'syncsmart test co' }).action, 'sync');
    assert.equal(gate(uat, 'account', 'toDynamics', { name: 'Acme' }).action, 'skip');
    assert.equal(gate(uat, 'opportunity', 'toDynamics', { dealname: 'SyncSmart renewal' }).action, 'sync');
    assert.equal(gate(uat, 'opportunity', 'toHubSpot', { name: 'Renewal', dealname: 'SyncSmart' }).action, 'skip');
  });

  it('markers are configurable', () => {
    const s = { ...uat, markers: { contactEmail: '@qa.example', companyName: 'ZZTEST' } };
    assert.equal(gate(s, 'contact', 'toDynamics', { email: 'x@qa.example' }).action, 'sync');
    assert.equal(gate(s, 'contact', 'toDynamics', { email: 'x@ss.test' }).action, 'skip');
    assert.equal(gate(s, 'account', 'toDynamics', { name: 'zztest inc' }).action, 'sync');
    assert.equal(gate(s, 'opportunity', 'toDynamics', { dealname: 'SyncSmart deal' }).action, 'sync', 'deal marker keeps its default');
  });

  it('owners are not restricted by UAT', () => {
    assert.deepEqual(gate(uat, 'systemuser', 'toHubSpot', {}), { action: 'sync' });
  });
});
