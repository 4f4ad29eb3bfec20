import marshmallow as ma

from crm.api.common import VersionedSchema


class BeatSchema(VersionedSchema):
    id = ma.fields.Int(dump_only=True)
    code = ma.fields.Str(required=True)
    name = ma.fields.Str(required=True)
    district = ma.fields.Function(lambda b: b.district.code if b.district else None,
                                  dump_only=True, allow_none=True)
    centroid_lat = ma.fields.Float(allow_none=True, dump_only=True)
    centroid_lon = ma.fields.Float(allow_none=True, dump_only=True)


class BeatQuerySchema(ma.Schema):
    district = ma.fields.Str(metadata={"description": "District code"})
    q = ma.fields.Str(metadata={"description": "Code or name contains"})
