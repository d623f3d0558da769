"""Row 1's kiosk child, started as the `indice-kiosk` command starts: the command's first step
(indice_kiosk/launch.py: start again on the scrubbing heap) before anything else is imported, then the
same measured start as ``bench.py --child startup kiosk``. The minimal app's child is ``bench.py`` itself,
so both import bench.py once in the process that is measured; the kiosk also pays what the command pays
for its first step (an interpreter start and one small module).

    python bench/kiosk_start.py SPAWN_TIME
"""

import sys

from indice_kiosk.launch import start_on_scrubbing_heap

start_on_scrubbing_heap()

import bench  # noqa: E402 -- after the first step, as in the command (bench/ is the script's own directory)

bench.run_child(["startup", "kiosk", *sys.argv[1:]])
