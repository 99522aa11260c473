import { z } from 'zod';

const Helper = z.object({ id: z.number().int(), name: z.string() });

export const MapSummary: z.ZodType = z
  .lazy(() =>
    z.object({
      name: z.string(),
      index: z.number().int(),
      origin: z.string(),
      section: z.string(),
      type: z.string(),
      keySize: z.number().int(),
      valueSize: z.number().int(),
      maxEntries: z.number().int(),
      flags: z.number().int(),
      numaNode: z.number().int(),
      mapExtra: z.string(),
      pinning: z.string(),
      btfKeyTypeId: z.number().int(),
      btfValueTypeId: z.number().int(),
      mmapable: z.boolean(),
      frozen: z.boolean(),
      inner: MapSummary.nullable(),
      slots: z.array(z.object({ index: z.number().int(), target: z.string(), targetKind: z.string() })),
      initialValue: z.string().nullable(),
      structOps: z
        .object({
          typeName: z.string(),
          typeId: z.number().int(),
          funcs: z.array(z.object({ member: z.string(), memberIndex: z.number().int(), prog: z.string() })),
        })
        .nullable(),
    }),
  )
  .meta({ id: 'MapSummary', description: 'A map of the object (an inner map of a map of maps in `inner`)' });

export const ObjectSummary = z
  .object({
    name: z.string(),
    byteOrder: z.enum(['le', 'be']),
    license: z.string(),
    kernVersion: z.number().int().nullable(),
    programs: z.array(
      z.object({
        name: z.string(),
        section: z.string(),
        type: z.string().nullable(),
        expectedAttachType: z.string().nullable(),
        attachTarget: z.string().nullable(),
        attachBtfName: z.string().nullable(),
        sleepable: z.boolean(),
        xdpFrags: z.boolean(),
        autoload: z.boolean(),
        insns: z.number().int(),
        slots: z.number().int(),
        subprograms: z.array(z.string()),
        helpers: z.array(Helper),
        maps: z.array(z.string()),
        kfuncs: z.array(z.string()),
        ksyms: z.array(z.string()),
        funcInfo: z.number().int(),
        lineInfo: z.number().int(),
        coreRelos: z.number().int(),
      }),
    ),
    subprograms: z.array(z.object({ name: z.string(), slots: z.number().int(), global: z.boolean() })),
    maps: z.array(MapSummary),
    globals: z.array(
      z.object({ name: z.string(), section: z.string(), offset: z.number().int(), size: z.number().int(), linkage: z.string() }),
    ),
    externs: z.array(
      z.object({ name: z.string(), kind: z.string(), weak: z.boolean(), func: z.boolean(), typed: z.boolean(), kconfig: z.unknown() }),
    ),
    coreRelocations: z.object({ total: z.number().int(), byKind: z.record(z.string(), z.number().int()) }),
    btf: z
      .object({
        byteOrder: z.enum(['le', 'be']),
        types: z.number().int(),
        stringsBytes: z.number().int(),
        kinds: z.record(z.string(), z.number().int()),
        ext: z.object({ funcInfo: z.number().int(), lineInfo: z.number().int(), coreRelos: z.number().int() }).nullable(),
      })
      .nullable(),
    features: z.array(z.string()),
  })
  .meta({ id: 'ObjectSummary', description: 'What a BPF object contains (bpfsign inspect --json)' });

export const ObjectQuery = z.object({
  name: z
    .string()
    .max(128, 'at most 128 characters')
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional()
    .meta({ description: 'object name (libbpf object_name; default "obj"; at most 128 characters)' }),
});
