"""Where a ``Directory``'s entries come from.

- :mod:`~ldapnb.sources.base`: the seam, the protocols ``Directory`` depends on (``Source``,
  ``Writable``, ``Bindable``; ``Servable`` for an ldap3 connection answered in memory), the
  column pages every source yields, the scope table;
- :mod:`~ldapnb.sources.embedded`: the embedded directory (``EmbeddedDirectory``), composed of
  :mod:`~ldapnb.sources._store`, :mod:`~ldapnb.sources._checker`,
  :mod:`~ldapnb.sources._overlays` and :mod:`~ldapnb.sources._binds`;
- :mod:`~ldapnb.sources.live`: a live server over ldap3 (``LiveSource``);
- :mod:`~ldapnb.sources.slapd`: a private OpenLDAP slapd on loopback;
- :mod:`~ldapnb.sources._ldap3`: the one module that knows ldap3's internals (the embedded
  connection, TLS and socket details); :mod:`~ldapnb.sources._fastsearch`: bulk search
  answers decoded straight into column pages; :mod:`~ldapnb.sources._budget`: deadlines and
  bounds for every answer.
"""
