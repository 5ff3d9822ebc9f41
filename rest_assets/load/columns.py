"""The columns rest-assets adds to the tables it writes, and those of a commit's temp tables.

Every row gets ``_ra_load_id``; root and child rows get ``_ra_id`` (md5 of load id and row
position, or of parent id and list index), child rows ``_ra_parent_id``, ``_ra_root_id`` and
``_ra_list_idx``; root rows of a partitioned asset ``_ra_partition``, root rows of a table
several resources write ``_ra_resource``. Record fields with these names are renamed
(``_2``) rather than overwrite them.
"""

from __future__ import annotations

LOAD_ID = "_ra_load_id"
ROW_ID = "_ra_id"
PARENT_ID = "_ra_parent_id"
ROOT_ID = "_ra_root_id"
LIST_IDX = "_ra_list_idx"
PARTITION_COLUMN = "_ra_partition"
RESOURCE_COLUMN = "_ra_resource"  # a table several resources write: the row's resource
RESERVED = frozenset(
    name.lower()
    for name in (LOAD_ID, ROW_ID, PARENT_ID, ROOT_ID, LIST_IDX, PARTITION_COLUMN, RESOURCE_COLUMN)
)

# columns of a commit's temporary tables and views only
POS = "__ra_pos"  # a record's position in staging order: later records win a merge
RID = "__ra_rid"  # the row id it gets (ROW_ID)
PARENT = "__ra_parent"
ROOT = "__ra_root"
IDX = "__ra_idx"
VALUE = "__ra_value"
