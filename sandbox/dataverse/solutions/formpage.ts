import express, { type Request, type Response } from 'express';
import type { StoredRecord } from '../contracts.ts';
import type { Store } from '../store.ts';
import type { Schema } from '../schema.ts';
import { WEB_RESOURCE_CONTROL } from './package.ts';
import { child, normGuid, parseXml, path, type XmlElement } from './xml.ts';

/**
 * The org-URL pages a person's browser would load: `GET /WebResources/<name>` (the web resource body with
 * its Content-Type, as Dataverse serves it, optionally behind a `/{<cache version>}` prefix) and
 * `GET /main.aspx?etn=<table>&id=<guid>&pagetype=entityrecord`, a minimal model-driven form: the record's
 * main form, its tabs, field values, and web resource controls as iframes whose src carries the
 * PassParameters query string (id, type, typename, orgname, userlcid, orglcid, data) the way the form host
 * builds it. Neither asks for a login: where a real org sends an unknown browser to sign in, the sandbox
 * signs it in on the spot when main.aspx opens (sessions.ts, mounted in front of this router by app.ts).
 */

/** Content types Dataverse sends per webresourcetype. */
const CONTENT_TYPES: Record<number, string> = {
  1: 'text/html; charset=utf-8', 2: 'text/css; charset=utf-8', 3: 'text/javascript; charset=utf-8', 4: 'text/xml; charset=utf-8', 5: 'image/png', 6: 'image/jpeg',
  7: 'image/gif', 8: 'application/x-silverlight-app', 9: 'text/xsl; charset=utf-8', 10: 'image/x-icon', 11: 'image/svg+xml', 12: 'text/xml; charset=utf-8',
};

const esc = (s: unknown) => String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const labelOf = (e: XmlElement | undefined) => path(e, 'labels', 'label').find((l) => l.attrs.languagecode === '1033')?.attrs.description ?? path(e, 'labels', 'label')[0]?.attrs.description ?? '';

export interface FormPageDeps { store: Store; schema: Schema; orgName: () => string }

export function formPageRouter(deps: FormPageDeps): express.Router {
  const { store, schema } = deps;
  const router = express.Router();

  router.get(/^(?:\/%7B\d+%7D|\/\{\d+\})?\/WebResources\/(.+)$/i, (req: Request, res: Response) => {
    const name = decodeURIComponent((req.params as Record<string, string>)[0] ?? '').toLowerCase();
    const row = [...store.rows('webresource')].find((w) => String(w.name).toLowerCase() === name);
    if (!row) {
      res.status(404).type('text/html').send(`<html><body><h1>HTTP 404</h1><p>The web resource ${esc(name)} was not found.</p></body></html>`);
      return;
    }
    res.status(200).type(CONTENT_TYPES[row.webresourcetype as number] ?? 'application/octet-stream');
    res.set('Cache-Control', 'no-cache');
    res.send(Buffer.from(String(row.content ?? ''), 'base64'));
  });

  router.get('/main.aspx', (req: Request, res: Response) => {
    const q = req.query as Record<string, string | undefined>;
    const etn = String(q.etn ?? '').toLowerCase();
    const id = normGuid(q.id);
    const table = schema.table(etn);
    const page = (status: number, title: string, body: string) => res.status(status).type('text/html').send(
      `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body>${body}</body></html>`);
    if ((q.pagetype ?? 'entityrecord') !== 'entityrecord' || !table) return page(404, 'Not found', `<p class="error">Unknown page or table '${esc(etn)}'.</p>`);
    const record = id ? store.get(etn, id) : undefined;
    if (!record) return page(404, 'Record not found', `<p class="error">The ${esc(etn)} record ${esc(id)} does not exist.</p>`);
    const forms = [...store.rows('systemform')].filter((f) => f.objecttypecode === etn && f.type === 2 && f.formactivationstate !== 0);
    const form = (q.formid && forms.find((f) => f.formid === normGuid(q.formid))) || forms.find((f) => f.isdefault) || forms[0];
    const title = `${table.displayName}: ${record[table.primaryNameAttribute] ?? id}`;
    if (!form) return page(200, title, `<h1>${esc(title)}</h1><p class="no-imported-tab">This ${esc(etn)} has no main form.</p>`);
    const rendered = renderForm(parseXml('formxml', String(form.formxml)), record, etn, table.objectTypeCode, (name) => {
      const n = name.toLowerCase();
      return [...store.rows('webresource')].some((w) => String(w.name).toLowerCase() === n);
    }, deps.orgName());
    const notice = rendered.frames ? '' : `<p class="no-imported-tab">No imported solution adds a web resource tab to the ${esc(table.displayName)} form ${esc(form.name)}.</p>`;
    return page(200, title, `<h1>${esc(title)}</h1><div class="form" data-formid="${esc(form.formid)}">${rendered.html}</div>${notice}`);
  });
  return router;
}

function renderForm(form: XmlElement, record: StoredRecord, etn: string, typeCode: number, webResourceExists: (name: string) => boolean, orgName: string): { html: string; frames: number } {
  let frames = 0;
  const tabs = path(form, 'tabs', 'tab').map((tab) => {
    const sections = path(tab, 'columns', 'column', 'sections', 'section').map((section) => {
      const cells = path(section, 'rows', 'row', 'cell').map((cell) => {
        const control = child(cell, 'control');
        if (!control) return '';
        if ((control.attrs.classid ?? '').toLowerCase() === WEB_RESOURCE_CONTROL) {
          const p = child(control, 'parameters');
          const name = child(p, 'Url')?.text ?? '';
          if (!webResourceExists(name)) return `<div class="missing-web-resource">Web resource ${esc(name)} not found.</div>`;
          const qs = new URLSearchParams();
          if (child(p, 'PassParameters')?.text === 'true') {
            // Same names and order as the form host: record id in braces, upper case.
            qs.set('id', `{${String(record[`${etn}id`] ?? '').toUpperCase()}}`);
            qs.set('orglcid', '1033');
            qs.set('orgname', orgName);
            qs.set('type', String(typeCode));
            qs.set('typename', etn);
            qs.set('userlcid', '1033');
          }
          const data = child(p, 'Data')?.text;
          if (data) qs.set('data', data);
          frames += 1;
          const src = `/WebResources/${name.split('/').map(encodeURIComponent).join('/')}${qs.size ? `?${qs}` : ''}`;
          const height = Number(cell.attrs.rowspan ?? 6) * 30;
          return `<iframe id="${esc(control.attrs.id)}" title="${esc(labelOf(cell))}" src="${esc(src)}" style="width:100%;height:${height}px;border:${child(p, 'Border')?.text === 'true' ? '1px solid #ccc' : '0'}"></iframe>`;
        }
        const field = control.attrs.datafieldname;
        if (!field) return '';
        const v = record[field];
        const shown = v && typeof v === 'object' && !Array.isArray(v) ? v.id : Array.isArray(v) ? v.join(';') : v;
        return `<div class="field"><label>${esc(labelOf(cell) || field)}</label> <span data-field="${esc(field)}">${esc(shown ?? '')}</span></div>`;
      }).join('');
      return `<section data-name="${esc(section.attrs.name)}">${cells}</section>`;
    }).join('');
    return `<div class="tab" data-name="${esc(tab.attrs.name)}" data-id="${esc(normGuid(tab.attrs.id))}"><h2>${esc(labelOf(tab))}</h2>${sections}</div>`;
  }).join('');
  return { html: tabs, frames };
}
