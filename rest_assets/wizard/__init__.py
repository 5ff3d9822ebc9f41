"""`rest-assets inspect / init / add`: write sources.yml entries checked against the live API.

`add` asks (in a terminal, unless --yes) or takes flags for the source, its client and one
endpoint, inspects the endpoint live (`rest_assets.inspect`), then adds the source, or a
resource to the existing source of that name, to the YAML file (see `config_file` for how
the file is written).

Secrets: only `${VAR}` references are ever written. A raw token on the command line is
refused (`--token-env VAR` names the variable instead), and so is a literal value in a
header or query parameter whose name looks like a credential.

- `options`: what the commands take (AuthOptions, AddOptions) and the secret checks
- `config_file`: sources.yml as text: header, adding an entry, validated writes
- `prompts`: questions in a terminal
- `add`: `add_endpoint`, the gather -> inspect -> decide -> build -> write pipeline
- `commands`: the argparse wiring (`register_commands`)
"""

from rest_assets.wizard.add import AddResult, add_endpoint
from rest_assets.wizard.commands import register_commands
from rest_assets.wizard.config_file import (
    HEADER,
    init_config,
    render_addition,
    write_validated,
)
from rest_assets.wizard.errors import WizardError
from rest_assets.wizard.options import (
    AUTH_TYPES,
    DISPOSITIONS,
    AddOptions,
    AuthOptions,
    check_no_literal_secrets,
    parse_pairs,
)

__all__ = [
    "AUTH_TYPES",
    "DISPOSITIONS",
    "HEADER",
    "AddOptions",
    "AddResult",
    "AuthOptions",
    "WizardError",
    "add_endpoint",
    "check_no_literal_secrets",
    "init_config",
    "parse_pairs",
    "register_commands",
    "render_addition",
    "write_validated",
]
