import assert from 'node:assert/strict';
import { chooseMatch, normaliseCompanyName, normaliseDomain, normaliseEmail } from '../../../../server/src/sync/rules/match.ts';

describe('sync rules: match', () => {
  it('normalises emails: trim, lower case, invalid → null', () => {
    assert.equal(normaliseEmail('  Bob.Smith@Example.COM '), 'bob.smith@example.com');
    assert.equal(normaliseEmail('mailto:ann@x.io'), 'ann@x.io');
    for (const bad of ['', '   ', 'bob', 'bob@', '@x.com', 'a b@x.com', 'bob@localhost', null, undefined, 42]) {
      assert.equal(normaliseEmail(bad), null, String(bad));
    }
  });

  it('normalises domains from domains and website URLs', () => {
    const cases: Array<[string, string | null]> = [
      ['acme.com', 'acme.com'], ['ACME.com', 'acme.com'], ['www.acme.com', 'acme.com'], ['https://www.Acme.com/about?x=1#top', 'acme.com'],
      ['http://acme.com:8080/', 'acme.com'], ['//acme.com/path', 'acme.com'], [' shop.acme.co.uk/ ', 'shop.acme.co.uk'],
      ['acme.com.', 'acme.com'], ['https://user:pw@acme.com', 'acme.com'], ['sales@acme.com', 'acme.com'],
      ['wwwacme.com', 'wwwacme.com'], ['localhost', null], ['', null], ['not a domain', null], ['http://', null],
    ];
    for (const [input, want] of cases) assert.equal(normaliseDomain(input), want, input);
  });

  it('normalises company names for the fallback match', () => {
    assert.equal(normaliseCompanyName('The Acme Co., Inc.'), 'acme');
    assert.equal(normaliseCompanyName('ACME'), 'acme');
    assert.equal(normaliseCompanyName('Müller & Söhne GmbH'), 'muller and sohne');
    assert.equal(normaliseCompanyName('Co'), 'co', 'a name that is only a legal form stays');
    assert.equal(normaliseCompanyName('  '), null);
  });

  it('a stored link always wins', () => {
    const r = chooseMatch('email', { link: 'L1', email: 'x@y.com' }, [{ id: 'C1', email: 'x@y.com' }]);
    assert.deepEqual(r, { kind: 'matched', id: 'L1', by: 'link', reason: 'stored link to L1' });
  });

  it('matches by email ignoring case and space, reports ambiguity and invalid emails', () => {
    const cands = [{ id: 'a', email: 'Ann@X.com ' }, { id: 'b', email: 'bob@x.com' }, { id: 'c', email: 'BOB@x.com' }];
    const one = chooseMatch('email', { email: ' ann@x.COM' }, cands);
    assert.equal(one.kind, 'matched');
    assert.equal(one.kind === 'matched' && one.id, 'a');
    const two = chooseMatch('email', { email: 'bob@x.com' }, cands);
    assert.equal(two.kind, 'ambiguous');
    assert.deepEqual(two.kind === 'ambiguous' && two.ids, ['b', 'c']);
    assert.match(two.reason, /2 records/);
    assert.equal(chooseMatch('email', { email: 'nope' }, cands).kind, 'none');
    assert.equal(chooseMatch('email', { email: 'zed@x.com' }, cands).kind, 'none');
  });

  it('prefers the single contact over leads with the same email when asked', () => {
    const cands = [{ id: 'l1', entity: 'lead', email: 'a@x.com' }, { id: 'c1', entity: 'contact', email: 'a@x.com' }];
    const r = chooseMatch('email', { email: 'a@x.com' }, cands, { preferEntity: 'contact' });
    assert.equal(r.kind === 'matched' && r.id, 'c1');
    assert.equal(chooseMatch('email', { email: 'a@x.com' }, cands).kind, 'ambiguous');
  });

  it('does not take a candidate already linked to another record', () => {
    const r = chooseMatch('email', { id: 'me', email: 'a@x.com' }, [{ id: 'c1', email: 'a@x.com', linkedTo: 'other' }]);
    assert.equal(r.kind, 'none');
    assert.match(r.reason, /already linked/);
    const mine = chooseMatch('email', { id: 'me', email: 'a@x.com' }, [{ id: 'c1', email: 'a@x.com', linkedTo: 'me' }]);
    assert.equal(mine.kind, 'matched');
  });

  it('matches companies by domain (also from a website), then by name', () => {
    const cands = [
      { id: 'a1', name: 'Acme Inc', website: 'https://www.acme.com' },
      { id: 'b1', name: 'Beta', domain: 'beta.io' },
      { id: 'g1', name: 'Gamma Ltd' },
      { id: 'g2', name: 'Gamma', domain: 'gamma.co.uk' },
    ];
    const byDomain = chooseMatch('domainThenName', { domain: 'ACME.com', name: 'Other' }, cands);
    assert.deepEqual(byDomain.kind === 'matched' && [byDomain.id, byDomain.by], ['a1', 'domain']);
    const byWebsite = chooseMatch('domainThenName', { website: 'http://beta.io/x' }, cands);
    assert.equal(byWebsite.kind === 'matched' && byWebsite.id, 'b1');
    // Name fallback ignores g2, whose domain contradicts the source's.
    const byName = chooseMatch('domainThenName', { domain: 'gamma.com', name: 'GAMMA' }, cands);
    assert.deepEqual(byName.kind === 'matched' && [byName.id, byName.by], ['g1', 'name']);
    // Without a domain both Gammas match by name: ambiguous, not a guess.
    const amb = chooseMatch('domainThenName', { name: 'Gamma' }, cands);
    assert.equal(amb.kind, 'ambiguous');
    assert.equal(chooseMatch('domainThenName', {}, cands).kind, 'none');
  });

  it('narrows a shared domain by name', () => {
    const cands = [{ id: 'x', name: 'Acme East', domain: 'acme.com' }, { id: 'y', name: 'Acme West', domain: 'acme.com' }];
    const r = chooseMatch('domainThenName', { domain: 'acme.com', name: 'acme west' }, cands);
    assert.deepEqual(r.kind === 'matched' && [r.id, r.by], ['y', 'domain+name']);
    assert.equal(chooseMatch('domainThenName', { domain: 'acme.com', name: 'Acme' }, cands).kind, 'ambiguous');
  });

  it('link-only pairs never match on data', () => {
    assert.equal(chooseMatch('link', { name: 'Deal' }, [{ id: 'd', name: 'Deal' }]).kind, 'none');
  });
});
