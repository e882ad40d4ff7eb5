# ldapnb: `make lab` opens the lessons in JupyterLab; `make test` runs the suite (under 3 minutes)
# and `make test-slow` its slow lanes; CI (.ci/run) runs both.
# Each target does its own set-up on a fresh machine (as root it also installs the Debian
# packages the tests need: slapd, ldap-utils, chromium, tshark, Samba's AD DC and Kerberos).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: lab test test-slow test-fast fuzz bench lint system clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Debian packages: only as root on a Debian-like machine, and only what is missing:
# binder/apt.txt (slapd, ldap-utils, and lesson 09's nc and dig from netcat-openbsd and
# bind9-dnsutils: what Binder installs too; the live DC's SRV check runs dig), chromium (browser tests),
# nftables (lesson 09's firewall lab sets real rules in a private network namespace, root
# only), tshark (the Samba tests' DNS capture) and the private Samba AD DC with its Kerberos
# clients (SAMBA_PACKAGES). Samba is installed WITH recommends: without them
# samba-ad-provision is left out and provisioning fails. libkrb5-dev builds the gssapi extra.
# policy-rc.d refuses service starts during the install, so no system Samba or slapd starts.
SAMBA_PACKAGES := samba samba-ad-dc samba-ad-provision winbind krb5-user \
                  libsasl2-modules-gssapi-mit libkrb5-dev
system:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $$(cat binder/apt.txt) chromium nftables tshark; do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  samba=""; for p in $(SAMBA_PACKAGES); do \
	    dpkg -s $$p >/dev/null 2>&1 || samba="$$samba $$p"; done; \
	  if [ -n "$$missing$$samba" ]; then \
	    echo "installing Debian packages:$$missing$$samba"; \
	    echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections; \
	    echo 'krb5-config krb5-config/default_realm string EXAMPLE.ORG' | debconf-set-selections; \
	    echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections; \
	    apt-get update -qq; \
	    if [ ! -e /usr/sbin/policy-rc.d ]; then \
	      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; \
	      trap 'rm -f /usr/sbin/policy-rc.d' EXIT; fi; \
	    if [ -n "$$missing" ]; then \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	    if [ -n "$$samba" ]; then \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --install-recommends $$samba >/dev/null; fi; \
	  fi; \
	else \
	  command -v slapd >/dev/null || [ -x /usr/sbin/slapd ] || \
	    echo "note: slapd is not installed; as root, make test installs it (apt-get install slapd ldap-utils)"; \
	  command -v chromium >/dev/null || \
	    echo "note: chromium is not installed; as root, make test installs it (apt-get install chromium)"; \
	  command -v samba >/dev/null || [ -x /usr/sbin/samba ] || \
	    echo "note: Samba is not installed (the samba tests will fail); as root, make test installs it (apt-get install $(SAMBA_PACKAGES))"; \
	fi

# `make lab` installs only what a student needs: ldapnb and its `notebook` extra (JupyterLab,
# ipywidgets, the table/tree/graph widgets), not the dev set (playwright, repo2docker, mypy).
# The lessons are copied to ./lab (gitignored) so a student's work never edits the committed
# notebooks; files already there are kept.
LAB_STAMP := $(VENV)/.lab-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

$(LAB_STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet -e ".[notebook]"
	rm -f $(VENV)/.lab-*
	touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	$(VENV)/bin/ldapnb lab --lessons notebooks lab

# `make test` is the suite, in under 3 minutes on two cores: ruff and mypy (in the background,
# beside pytest: they are single-process and pytest leaves a core idle while it waits on servers
# and kernels), and every pytest test not marked `slow`: the unit and property tests, the real
# slapd tests, the real Samba AD DC lane, and every lesson executed headless once, with the
# assertions it makes.  `make test-slow` runs the tests marked `slow` (see pyproject.toml): the
# browser lane (JupyterLab in chromium), the lessons again in Binder's fresh environment, the
# 3,000-user generated domain loaded into Samba, property tests of 500 examples or more, the
# wheel, `make lab`.  CI (.ci/run) runs both, so nothing is left out of CI.
# `--dist loadgroup`: tests spread over the workers one by one; only those sharing an expensive
# session (a Samba DC, the headless lesson runs, JupyterLab and chromium) are kept together
# with `xdist_group`.  pytest's exit 5 ("no tests collected", a lane with nothing in it) is
# not a failure.  `make test-fast` is the developer's loop: ruff, then the fast lane (no
# slow/browser/samba, no lessons).
WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(WORKERS) --dist loadgroup
LINT   := $(VENV)/bin/ruff check ldapnb tests benchmarks scripts && $(VENV)/bin/mypy
FAST   := not slow and not browser and not samba and not lessons

test: system $(STAMP)
	@log=$$(mktemp); ( $(LINT) ) >$$log 2>&1 & lint=$$!; \
	$(PYTEST) -m "not slow"; rc=$$?; [ $$rc -eq 5 ] && rc=0; \
	wait $$lint; lrc=$$?; echo "== make lint (ruff, mypy): exit $$lrc"; cat $$log; rm -f $$log; \
	[ $$rc -eq 0 ] && [ $$lrc -eq 0 ]

test-slow: system $(STAMP)
	$(PYTEST) -m slow || [ $$? -eq 5 ]

test-fast: $(STAMP)
	$(VENV)/bin/ruff check ldapnb tests benchmarks scripts
	$(PYTEST) -m "$(FAST)" || [ $$? -eq 5 ]

# Longer property runs: fresh random cases (not the fixed ones `make test` repeats) and budgets
# LDAPNB_FUZZ times bigger (default 20: about 1.6 million cases in tests/test_properties.py).
LDAPNB_FUZZ ?= 20
fuzz: system $(STAMP)
	LDAPNB_FUZZ=$(LDAPNB_FUZZ) $(PY) -m pytest -n 2 --dist loadfile -p no:cacheprovider \
	  --hypothesis-show-statistics tests/test_properties.py tests/test_dn.py tests/test_filters.py \
	  tests/test_ldif.py

bench: system $(STAMP)
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null && ! dpkg -s libldap2-dev >/dev/null 2>&1; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libldap2-dev libsasl2-dev >/dev/null; fi
	$(PIP) install --quiet -e ".[bench]"
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: $(STAMP)
	$(LINT)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache .mypy_cache
