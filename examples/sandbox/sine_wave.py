"""Plot a sine wave with numpy and matplotlib, the DESIGN's reference plotting task, by hand.

No model here: this is code you wrote, run in the sandbox alone:
`mcodeact sandbox run examples/sandbox/sine_wave.py --save-artifacts out/`. The
figure comes back as the artifact sine_wave.png, and `result` summarises what was drawn so a caller
can check it without looking at the picture.
"""

import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0.0, 2.0 * np.pi, 500)
y = np.sin(x)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(x, y, label="sin(x)")
ax.axhline(0.0, color="grey", linewidth=0.5)
ax.set(title="A sine wave", xlabel="x (radians)", ylabel="sin(x)", xlim=(0.0, 2.0 * np.pi))
ax.legend(loc="upper right")
fig.tight_layout()
fig.savefig("sine_wave.png", dpi=100)
plt.close(fig)  # saved under its own name; an open figure would also come back as figure_1.png

print(f"plotted {x.size} points of sin(x) over [0, 2π]")
result = {
    "points": int(x.size),
    "x_range": [0.0, round(float(x[-1]), 6)],
    "max": round(float(y.max()), 6),
    "min": round(float(y.min()), 6),
    "file": "sine_wave.png",
}
