"""`decisions serve` (the web application) and `decisions user set-password`."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from decisions.cli.common import ConfigOption, DbOption
from decisions.errors import UsageError

__all__ = ["serve", "set_password"]


def set_password(
    name: Annotated[str, typer.Argument(help="姓名 / the person's name")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """设置登录密码（交互输入，不在命令行出现） / set a person's web login password (prompted, never an argument)."""
    from decisions.service.office import Office

    office = Office.open(db, config)
    office.users.get(name)  # an unknown person is named before the password is asked for
    password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    user = office.set_password(name, password)
    typer.echo(f"✓ {user.name}: 密码已设置 / password set")


def serve(
    db: DbOption = None,
    config: ConfigOption = None,
    host: Annotated[str, typer.Option("--host", help="监听地址 / address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口 / port")] = 8000,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="在 HTTPS 之后运行 / served behind HTTPS (Secure cookies)")
    ] = False,
    idle_minutes: Annotated[int, typer.Option("--idle-minutes", help="会话空闲超时 / session idle timeout")] = 30,
) -> None:
    """启动网页服务 / serve the web application (log in with a password set by `decisions user set-password`)."""
    import uvicorn

    from decisions.service.office import Office
    from decisions.web.app import Settings, create_app

    if not 1 <= port <= 65535:
        raise UsageError(f"端口无效 / invalid port {port}")
    if not 1 <= idle_minutes <= 24 * 60:
        raise UsageError("--idle-minutes 应为 1 到 1440 / --idle-minutes must be 1 to 1440")
    office = Office.open(db, config)
    if not office.logins.has_any():
        raise UsageError(
            "尚无人可以登录：请先运行 decisions user set-password 姓名（首个管理员） / no one can log in yet: "
            "run `decisions user set-password NAME` first (the first administrator)"
        )
    secret = os.environ.get("DECISIONS_WEB_SECRET") or None
    settings = Settings(secure_cookies=secure_cookies, idle_minutes=idle_minutes)
    if secret:
        settings = Settings(secret, secure_cookies, idle_minutes)
    typer.echo(f"decisions: http://{host}:{port}/ (Ctrl+C 停止 / to stop)")
    uvicorn.run(create_app(office, settings), host=host, port=port, log_level="warning")
