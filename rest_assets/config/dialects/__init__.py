"""Config dialects other than dlt's shape, each translated into it when a file loads.

- `dango`: Dango's `type: rest_api` sources (and `type: dlt_native`, parsed, not run yet);
- `connector`: the read/write REST connector's `CONFIG: {inputs, outputs}` files.
"""
