"""`python -m ldapnb`: the same as the `ldapnb` command."""

from .cli import main

raise SystemExit(main())
