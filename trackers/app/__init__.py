"""The video application: frame sources (:mod:`.sources`), background decoding and encoding
(:mod:`.prefetch`), detectors (:mod:`.detectors`), the ReID embedder (:mod:`.embedder`), the
tracking loop (:mod:`.loop`), outputs (:mod:`.writers`) and the ``strongsort-track`` command
line (:mod:`.cli`)."""
