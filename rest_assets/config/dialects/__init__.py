"""Config dialects other than dlt's shape, each translated into it when a file loads.

- `dango`: Dango's `type: rest_api` sources, and `type: dlt_native` ones carried to the
  Dagster layer, which runs them through dlt (rest_assets.dagster.dlt_native);
- `connector`: the read/write REST connector's `CONFIG: {inputs, outputs}` files.
"""
