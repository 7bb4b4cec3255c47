"""Imports every domain's models so Alembic and create_all see the whole schema."""

from passerelle.accounts import models as _accounts  # noqa: F401
from passerelle.assistant import models as _assistant  # noqa: F401
from passerelle.auctions import models as _auctions  # noqa: F401
from passerelle.cart import models as _cart  # noqa: F401
from passerelle.catalog import models as _catalog  # noqa: F401
from passerelle.companies import models as _companies  # noqa: F401
from passerelle.connect import models as _connect  # noqa: F401
from passerelle.db.base import Base
from passerelle.festival import coupons_models as _coupons  # noqa: F401
from passerelle.festival import models as _festival  # noqa: F401
from passerelle.festival import screen_models as _screen  # noqa: F401
from passerelle.i18n import models as _i18n  # noqa: F401
from passerelle.infra import idempotency as _idempotency  # noqa: F401
from passerelle.infra import outbox as _outbox  # noqa: F401
from passerelle.ledger import models as _ledger  # noqa: F401
from passerelle.live import commerce_models as _live_commerce  # noqa: F401
from passerelle.live import models as _live  # noqa: F401
from passerelle.logistics import models as _logistics  # noqa: F401
from passerelle.merchants import models as _merchants  # noqa: F401
from passerelle.offers import models as _offers  # noqa: F401
from passerelle.orders import models as _orders  # noqa: F401
from passerelle.payments import models as _payments  # noqa: F401
from passerelle.quotes import models as _quotes  # noqa: F401
from passerelle.search import models as _search  # noqa: F401
from passerelle.traceability import models as _traceability  # noqa: F401

metadata = Base.metadata
