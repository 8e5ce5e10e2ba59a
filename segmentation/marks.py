"""The unit segmentation hands on: one mark (digit, separator, or unknown) with its own pixels."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import cv2
import numpy as np

from pipeline.results import Box


@dataclass(eq=False)  # compared by identity: masks are arrays
class Component:
    """One mark of a string: ``box`` in the ink mask's (deskewed page) pixels, ``mask`` a bool
    array of shape (box.h, box.w) holding only this mark's ink, ``separator`` one of
    ``. , / -`` when recognised as a separator, else None (a digit or something to reject).
    ``doubtful`` is True when segmentation hesitated over it (cutting touching digits apart or
    leaving them whole was a close call): worth flagging for review whatever the classifier
    says, since classifiers are confident on two touching digits and on half digits alike."""

    box: Box
    mask: np.ndarray
    separator: str | None = None
    doubtful: bool = False
    # The probabilities the reader takes for this mark, when segmentation already has them: the
    # classifier's for a wide component read whole and left whole (no need to ask again), or,
    # for each part of a component cut in two, those blended with the pair reader's.
    scores: np.ndarray | None = field(default=None, repr=False)

    @cached_property
    def area(self) -> int:
        """Ink pixels."""
        return int(np.count_nonzero(self.mask))

    @cached_property
    def centre(self) -> tuple[float, float]:
        """Centre of mass (x, y) of the ink in page pixels (box centre if the mask is empty)."""
        m = cv2.moments(self.mask.view(np.uint8), binaryImage=True)
        if m["m00"] == 0:
            return self.box.x + self.box.w / 2, self.box.y + self.box.h / 2
        return self.box.x + m["m10"] / m["m00"], self.box.y + m["m01"] / m["m00"]

